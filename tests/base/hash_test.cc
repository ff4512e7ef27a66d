#include "keel/base/hash.h"

#include <bitset>
#include <cstdint>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace keel {
namespace {

struct MurmurVector {
  std::string input;
  std::uint32_t seed;
  std::uint32_t expected;
};

// Reference vectors for MurmurHash3_x86_32 (computed with Appleby's reference
// implementation; widely republished). Every tail length 0-3 and the block loop
// are covered, plus non-ASCII UTF-8 input as flag keys may contain.
TEST(Murmur3X86_32Test, MatchesReferenceVectors) {
  const MurmurVector vectors[] = {
      {"", 0, 0u},
      {"", 1, 0x514E28B7u},
      {"", 0xffffffffu, 0x81F16F39u},
      {std::string("\xff\xff\xff\xff", 4), 0, 0x76293B50u},
      {std::string("\x21\x43\x65\x87", 4), 0, 0xF55B516Bu},
      {std::string("\x21\x43\x65\x87", 4), 0x5082EDEEu, 0x2362F9DEu},
      {std::string("\x21\x43\x65", 3), 0, 0x7E4A8634u},
      {std::string("\x21\x43", 2), 0, 0xA0F7B07Au},
      {std::string("\x21", 1), 0, 0x72661CF4u},
      {std::string("\0\0\0\0", 4), 0, 0x2362F9DEu},
      {std::string("\0\0\0", 3), 0, 0x85F0B427u},
      {std::string("\0\0", 2), 0, 0x30F4C306u},
      {std::string("\0", 1), 0, 0x514E28B7u},
      {"aaaa", 0x9747b28cu, 0x5A97808Au},
      {"aaa", 0x9747b28cu, 0x283E0130u},
      {"aa", 0x9747b28cu, 0x5D211726u},
      {"a", 0x9747b28cu, 0x7FA09EA6u},
      {"abcd", 0x9747b28cu, 0xF0478627u},
      {"abc", 0x9747b28cu, 0xC84A62DDu},
      {"ab", 0x9747b28cu, 0x74875592u},
      {"Hello, world!", 0x9747b28cu, 0x24884CBAu},
      {"\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80\xcf\x80",
       0x9747b28cu, 0xD58063C1u},
      {std::string(256, 'a'), 0x9747b28cu, 0x37405BDCu},
      {"The quick brown fox jumps over the lazy dog", 0x9747b28cu, 0x2FA826CDu},
      {"test", 0, 0xBA6BD213u},
      {"Hello, world!", 0, 0xC0363E43u},
      {"The quick brown fox jumps over the lazy dog", 0, 0x2E4FF723u},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(Murmur3X86_32(v.input, v.seed), v.expected)
        << "input of " << v.input.size() << " bytes, seed " << v.seed;
  }
}

TEST(Hash64Test, DeterministicWithinProcessAndSeedSensitive) {
  EXPECT_EQ(Hash64("tenant-42"), Hash64("tenant-42"));
  EXPECT_NE(Hash64("tenant-42"), Hash64("tenant-43"));
  EXPECT_NE(Hash64("tenant-42", 1), Hash64("tenant-42", 2));
  EXPECT_NE(Hash64(""), Hash64(std::string("\0", 1)));
}

TEST(Hash64Test, NoCollisionsAcrossLengthsAndPrefixes) {
  // Every length path (0, 1-3, 4-16, 17-48, > 48) and every prefix of a long
  // key.
  const std::string text(200, 'x');
  std::set<std::uint64_t> seen;
  for (std::size_t len = 0; len <= text.size(); ++len) {
    EXPECT_TRUE(
        seen.insert(Hash64(std::string_view(text).substr(0, len))).second)
        << len;
  }
  for (int i = 0; i < 100000; ++i) {
    EXPECT_TRUE(seen.insert(Hash64("key:" + std::to_string(i))).second) << i;
  }
}

// Flipping one input bit should flip about half of the output bits.
TEST(Hash64Test, Avalanche) {
  for (std::size_t len : {3u, 8u, 16u, 40u, 100u}) {
    std::string key(len, '\0');
    for (std::size_t i = 0; i < len; ++i)
      key[i] = static_cast<char>(i * 31 + 7);
    const std::uint64_t base = Hash64(key);
    double total = 0;
    int flips = 0;
    for (std::size_t byte = 0; byte < len; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string changed = key;
        changed[byte] = static_cast<char>(changed[byte] ^ (1 << bit));
        total += std::bitset<64>(base ^ Hash64(changed)).count();
        ++flips;
      }
    }
    const double mean = total / flips;
    EXPECT_GT(mean, 28.0) << "length " << len;
    EXPECT_LT(mean, 36.0) << "length " << len;
  }
}

TEST(Mix64Test, IsBijectiveOnSamplesAndMixesLowBits) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t i = 0; i < 10000; ++i)
    EXPECT_TRUE(seen.insert(Mix64(i)).second);
  // Sequential keys must spread over shards chosen by the top bits.
  std::set<std::uint64_t> shards;
  for (std::uint64_t i = 0; i < 64; ++i) shards.insert(Mix64(i) >> 60);
  EXPECT_GE(shards.size(), 14u);
}

}  // namespace
}  // namespace keel
