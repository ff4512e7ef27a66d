// FlatIndex: random inserts and erases checked against std::map.

#include "keel/base/internal/flat_index.h"

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace keel::base_internal {
namespace {

struct Item {
  std::uint64_t key;
};

// Random inserts and erases against std::map, with hashes drawn from a small
// range so that probe runs collide, wrap around the table end and are
// repaired by backward-shift deletion.
TEST(FlatIndexTest, MatchesAReferenceMapUnderCollisions) {
  FlatIndex<Item> index;
  std::map<std::uint64_t, std::unique_ptr<Item>> reference;
  std::mt19937_64 rng(42);
  const auto hash_of = [](std::uint64_t key) {
    return (key % 7) * 0x9E3779B97F4A7C15ULL | (key % 3);
  };
  for (int step = 0; step < 20000; ++step) {
    const std::uint64_t key = rng() % 300;
    const std::uint64_t hash = hash_of(key);
    const auto match = [key](const Item& item) { return item.key == key; };
    Item* found = index.Find(hash, match);
    auto it = reference.find(key);
    ASSERT_EQ(found != nullptr, it != reference.end()) << "step " << step;
    if (found != nullptr) {
      ASSERT_EQ(found, it->second.get());
      if (rng() % 2 == 0) {
        index.Erase(hash, found);
        reference.erase(it);
      }
    } else {
      auto item = std::make_unique<Item>(Item{key});
      index.Insert(hash, item.get());
      reference.emplace(key, std::move(item));
    }
    ASSERT_EQ(index.size(), reference.size());
  }
  for (const auto& [key, item] : reference) {
    EXPECT_EQ(index.Find(hash_of(key),
                         [key = key](const Item& x) { return x.key == key; }),
              item.get());
  }
  std::vector<Item*> all;
  index.AppendTo(all);
  EXPECT_EQ(all.size(), reference.size());
}

}  // namespace
}  // namespace keel::base_internal
