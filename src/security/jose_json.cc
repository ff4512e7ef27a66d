#include "jose_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "base/hex_digit.h"
#include "keel/base/json_writer.h"

namespace keel::security_internal {
namespace {

absl::string_view View(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Bytes that stand for themselves inside a string: printable ASCII (and DEL)
// except `"` and `\`. Everything else needs a closer look.
constexpr std::array<bool, 256> MakePlainTable() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c) table[c] = c != '"' && c != '\\';
  return table;
}
constexpr std::array<bool, 256> kPlain = MakePlainTable();

constexpr bool IsWhitespace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The value of four hex digits at `p` (which has at least four bytes), or
// -1.
int Hex4(const char* p) {
  int value = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = base_internal::HexDigitValue(p[i]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

// The length of the well-formed UTF-8 sequence (RFC 3629 section 4) of two
// or more bytes starting at `p`, or 0.
std::size_t Utf8SequenceLength(const char* p, const char* end) {
  const auto byte = [&](std::size_t i) {
    return static_cast<unsigned char>(p[i]);
  };
  const auto tail = [&](std::size_t i) {
    return p + i < end && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF) return tail(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (p + 1 >= end) return 0;
    const unsigned char second = byte(1);
    // E0 needs A0..BF (no overlong form); ED needs 80..9F (no surrogate).
    const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return second >= low && second <= high && tail(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (p + 1 >= end) return 0;
    const unsigned char second = byte(1);
    // F0 needs 90..BF (no overlong form); F4 needs 80..8F (<= U+10FFFF).
    const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return second >= low && second <= high && tail(2) && tail(3) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The code point of the valid escape sequence at `p` (just after the
// backslash), advancing `p` past it.
std::uint32_t DecodeEscape(const char*& p) {
  const char c = *p++;
  switch (c) {
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'u': {
      std::uint32_t cp = static_cast<std::uint32_t>(Hex4(p));
      p += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        // Validated: a \uDC00..\uDFFF escape follows.
        const auto low = static_cast<std::uint32_t>(Hex4(p + 2));
        p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      return cp;
    }
    default:  // `"`, `\` and `/` stand for themselves
      return static_cast<unsigned char>(c);
  }
}

// One end of a valid string starting at `p` (its opening quote): the
// position after the closing quote; `escaped` tells whether it holds a
// backslash.
const char* ValidStringEnd(const char* p, bool& escaped) {
  escaped = false;
  ++p;
  for (;;) {
    const char c = *p;
    if (c == '"') return p + 1;
    if (c == '\\') {
      escaped = true;
      p += 2;  // the escaped character; \uXXXX's digits are plain
    } else {
      ++p;
    }
  }
}

// Byte-wise name order. Most names in one object differ in their first
// byte, so that is compared inline before falling back to memcmp.
bool NameLess(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a.front() != b.front()) {
    return static_cast<unsigned char>(a.front()) <
           static_cast<unsigned char>(b.front());
  }
  return a < b;
}

// Nested-object member names awaiting the duplicate check at their object's
// end; one stack shared by all levels.
using NameStack = absl::InlinedVector<std::string_view, 16>;

bool HasDuplicate(std::string_view* first, std::string_view* last) {
  const std::size_t n = static_cast<std::size_t>(last - first);
  if (n < 2) return false;
  if (n <= 8) {
    for (std::string_view* a = first; a != last; ++a) {
      for (std::string_view* b = a + 1; b != last; ++b) {
        if (*a == *b) return true;
      }
    }
    return false;
  }
  // Sorting keeps hostile objects with thousands of members at O(n log n).
  std::sort(first, last, NameLess);
  return std::adjacent_find(first, last) != last;
}

// The validating scanner. Every method starts at the current position and,
// on failure, records the error and its position and returns false.
class Scanner {
 public:
  // `decoded` receives member names that contain escapes; see
  // JsonObject::decoded_names_.
  Scanner(std::string_view text, std::string& decoded)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        decoded_(decoded) {}

  // The whole text as one value; members of a top-level object go to `top`
  // (unchecked for duplicates: the caller sorts them anyway).
  bool Document(absl::InlinedVector<JsonMember, 16>* top, JsonKind& kind) {
    SkipWhitespace();
    JsonValue value;
    if (p_ != end_ && *p_ == '{' && top != nullptr) {
      value.kind = JsonKind::kObject;
      if (!Object(1, top)) return false;
    } else if (!Value(0, value)) {
      return false;
    }
    kind = value.kind;
    SkipWhitespace();
    if (p_ != end_) return Syntax("unexpected text after the value");
    return true;
  }

  // Collects the elements of the array at the current position.
  bool ArrayElements(absl::InlinedVector<JsonValue, 8>& out) {
    SkipWhitespace();
    if (p_ == end_ || *p_ != '[') return Syntax("expected an array");
    return Array(1, &out);
  }

  JsonError error() const { return error_; }
  const char* reason() const { return reason_; }
  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }

 private:
  bool Fail(JsonError error, const char* reason) {
    error_ = error;
    reason_ = reason;
    return false;
  }
  bool Syntax(const char* reason) { return Fail(JsonError::kSyntax, reason); }

  void SkipWhitespace() {
    while (p_ != end_ && IsWhitespace(*p_)) ++p_;
  }

  // A value whose first character is at p_; `open` containers enclose it.
  bool Value(int open, JsonValue& out) {
    if (p_ == end_) return Syntax("unexpected end of text");
    const char* start = p_;
    switch (*p_) {
      case '{':
        out.kind = JsonKind::kObject;
        if (!Object(open + 1, nullptr)) return false;
        break;
      case '[':
        out.kind = JsonKind::kArray;
        if (!Array(open + 1, nullptr)) return false;
        break;
      case '"': {
        out.kind = JsonKind::kString;
        bool escaped;
        if (!String(escaped)) return false;
        break;
      }
      case 't':
        out.kind = JsonKind::kTrue;
        if (!Literal("true")) return false;
        break;
      case 'f':
        out.kind = JsonKind::kFalse;
        if (!Literal("false")) return false;
        break;
      case 'n':
        out.kind = JsonKind::kNull;
        if (!Literal("null")) return false;
        break;
      default:
        out.kind = JsonKind::kNumber;
        if (!Number()) return false;
        break;
    }
    out.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  bool Literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return Syntax("invalid literal");
    }
    p_ += word.size();
    return true;
  }

  bool Number() {
    const char* p = p_;
    if (*p == '-') ++p;
    const char* int_begin = p;
    if (p == end_ || !IsDigit(*p)) {
      return Syntax(p == p_ ? "unexpected character" : "invalid number");
    }
    if (*p == '0') {
      ++p;
    } else {
      while (p != end_ && IsDigit(*p)) ++p;
    }
    const std::int64_t int_digits = p - int_begin;
    const char* frac_begin = p;
    const char* frac_end = p;
    if (p != end_ && *p == '.') {
      ++p;
      frac_begin = p;
      if (p == end_ || !IsDigit(*p)) {
        p_ = p;
        return Syntax("invalid number");
      }
      while (p != end_ && IsDigit(*p)) ++p;
      frac_end = p;
    }
    // Saturates far beyond any exponent that matters below, and far below
    // overflow (|exponent| < 2^62 even after adding 2^20 digits).
    constexpr std::int64_t kExponentCap = std::int64_t{1} << 40;
    std::int64_t exponent = 0;
    if (p != end_ && (*p == 'e' || *p == 'E')) {
      ++p;
      bool negative = false;
      if (p != end_ && (*p == '+' || *p == '-')) {
        negative = *p == '-';
        ++p;
      }
      if (p == end_ || !IsDigit(*p)) {
        p_ = p;
        return Syntax("invalid number");
      }
      while (p != end_ && IsDigit(*p)) {
        exponent = std::min(exponent * 10 + (*p - '0'), kExponentCap);
        ++p;
      }
      if (negative) exponent = -exponent;
    }
    // The decimal exponent of the leading significant digit decides whether
    // the value fits a double (DBL_MAX ~ 1.8e308); only 1e308 <= |v| < 1e309
    // needs the conversion itself to tell.
    std::int64_t magnitude;
    if (*int_begin != '0') {
      magnitude = int_digits - 1 + exponent;
    } else {
      const char* nonzero =
          std::find_if(frac_begin, frac_end, [](char c) { return c != '0'; });
      magnitude =
          nonzero == frac_end ? -1 : exponent - (nonzero - frac_begin) - 1;
    }
    if (magnitude >= 308) {
      double value;
      if (magnitude > 308 ||
          std::from_chars(p_, p, value).ec == std::errc::result_out_of_range) {
        return Syntax("number beyond the double range");
      }
    }
    p_ = p;
    return true;
  }

  // A string at p_ (its opening quote); `escaped` tells whether it holds a
  // backslash.
  bool String(bool& escaped) {
    escaped = false;
    const char* p = p_ + 1;
    for (;;) {
      while (p != end_ && kPlain[static_cast<unsigned char>(*p)]) ++p;
      if (p == end_) {
        p_ = p;
        return Syntax("unterminated string");
      }
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') break;
      if (c == '\\') {
        escaped = true;
        p_ = p;
        if (end_ - p < 2) return Syntax("unterminated string");
        switch (p[1]) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            p += 2;
            continue;
          case 'u':
            break;
          default:
            return Syntax("invalid escape");
        }
        const int cp = end_ - p >= 6 ? Hex4(p + 2) : -1;
        if (cp < 0) return Syntax("invalid \\u escape");
        p += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return Syntax("unpaired UTF-16 surrogate");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          const int low =
              end_ - p >= 6 && p[0] == '\\' && p[1] == 'u' ? Hex4(p + 2) : -1;
          if (low < 0xDC00 || low > 0xDFFF) {
            return Syntax("unpaired UTF-16 surrogate");
          }
          p += 6;
        }
        continue;
      }
      if (c < 0x20) {
        p_ = p;
        return Syntax("control character in string");
      }
      const std::size_t length = Utf8SequenceLength(p, end_);
      if (length == 0) {
        p_ = p;
        return Syntax("invalid UTF-8");
      }
      p += length;
    }
    p_ = p + 1;
    return true;
  }

  // A member name at p_, decoded when it has escapes.
  bool Name(std::string_view& name) {
    if (p_ == end_ || *p_ != '"') return Syntax("expected a member name");
    const char* start = p_;
    bool escaped;
    if (!String(escaped)) return false;
    const std::string_view text(start, static_cast<std::size_t>(p_ - start));
    if (!escaped) {
      name = text.substr(1, text.size() - 2);
      return true;
    }
    if (decoded_.empty()) {
      // Decoding never lengthens a name, so this one reservation keeps every
      // view into `decoded_` valid.
      decoded_.reserve(static_cast<std::size_t>(end_ - begin_));
    }
    const std::size_t at = decoded_.size();
    AppendJsonString(text, decoded_);
    name = std::string_view(decoded_.data() + at, decoded_.size() - at);
    return true;
  }

  // An object at p_ with `open` containers open including itself. Members
  // go to `top` if given; otherwise their names are checked for repeats.
  bool Object(int open, absl::InlinedVector<JsonMember, 16>* top) {
    if (open > kMaxJsonDepth) {
      return Fail(JsonError::kTooDeep, "nested too deeply");
    }
    ++p_;
    SkipWhitespace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    const std::size_t names_start = names_.size();
    for (;;) {
      JsonMember member;
      if (!Name(member.name)) return false;
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') return Syntax("expected ':'");
      ++p_;
      SkipWhitespace();
      if (!Value(open, member.value)) return false;
      if (top != nullptr) {
        top->push_back(member);
      } else {
        names_.push_back(member.name);
      }
      SkipWhitespace();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        SkipWhitespace();
        continue;
      }
      if (p_ != end_ && *p_ == '}') {
        ++p_;
        break;
      }
      return Syntax("expected ',' or '}'");
    }
    if (top == nullptr) {
      if (HasDuplicate(names_.data() + names_start,
                       names_.data() + names_.size())) {
        return Fail(JsonError::kDuplicateName, "duplicate member name");
      }
      names_.resize(names_start);
    }
    return true;
  }

  bool Array(int open, absl::InlinedVector<JsonValue, 8>* elements) {
    if (open > kMaxJsonDepth) {
      return Fail(JsonError::kTooDeep, "nested too deeply");
    }
    ++p_;
    SkipWhitespace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      JsonValue value;
      if (!Value(open, value)) return false;
      if (elements != nullptr) elements->push_back(value);
      SkipWhitespace();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        SkipWhitespace();
        continue;
      }
      if (p_ != end_ && *p_ == ']') {
        ++p_;
        return true;
      }
      return Syntax("expected ',' or ']'");
    }
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  std::string& decoded_;
  NameStack names_;
  JsonError error_ = JsonError::kNone;
  const char* reason_ = "";
};

// Appends the valid string `text` (quotes included) re-escaped canonically.
void AppendCanonicalString(std::string_view text, std::string& out) {
  if (text.find('\\') == std::string_view::npos) {
    out.append(text.data(), text.size());  // raw content needs no escape
    return;
  }
  const char* p = text.data() + 1;
  const char* const end = text.data() + text.size() - 1;
  out.push_back('"');
  while (p < end) {
    const char* run = p;
    while (p < end && *p != '\\') ++p;
    out.append(run, static_cast<std::size_t>(p - run));
    if (p == end) break;
    ++p;
    const std::uint32_t cp = DecodeEscape(p);
    if (cp < 0x20 || cp == '"' || cp == '\\') {
      AppendJsonEscape(out, static_cast<unsigned char>(cp));
    } else {
      AppendUtf8(cp, out);
    }
  }
  out.push_back('"');
}

}  // namespace

absl::Status JsonObject::Parse(std::string_view text, std::string_view what) {
  members_.clear();
  decoded_names_.clear();
  error_ = JsonError::kNone;
  error_offset_ = 0;
  Scanner scanner(text, decoded_names_);
  JsonKind kind = JsonKind::kNull;
  const absl::string_view label = View(what);
  if (!scanner.Document(&members_, kind)) {
    error_ = scanner.error();
    error_offset_ = scanner.offset();
    members_.clear();
    switch (error_) {
      case JsonError::kTooDeep:
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": nested deeper than ", kMaxJsonDepth));
      case JsonError::kDuplicateName:
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": duplicate member name"));
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": invalid JSON (", scanner.reason(),
                         " at byte ", scanner.offset(), ")"));
    }
  }
  if (kind != JsonKind::kObject) {
    error_ = JsonError::kNotObject;
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": not a JSON object"));
  }
  std::sort(members_.begin(), members_.end(),
            [](const JsonMember& a, const JsonMember& b) {
              return NameLess(a.name, b.name);
            });
  for (std::size_t i = 1; i < members_.size(); ++i) {
    if (members_[i - 1].name == members_[i].name) {
      error_ = JsonError::kDuplicateName;
      members_.clear();
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": duplicate member name"));
    }
  }
  return absl::OkStatus();
}

const JsonMember* JsonObject::Find(std::string_view name) const {
  if (members_.size() <= 16) {
    // A JOSE object has a handful of members: comparing lengths first finds
    // one faster than a binary search's string comparisons.
    for (const JsonMember& member : members_) {
      if (member.name.size() == name.size() && member.name == name) {
        return &member;
      }
    }
    return nullptr;
  }
  auto it = std::lower_bound(members_.begin(), members_.end(), name,
                             [](const JsonMember& m, std::string_view n) {
                               return NameLess(m.name, n);
                             });
  return it != members_.end() && it->name == name ? &*it : nullptr;
}

std::optional<JsonKind> JsonValueKind(std::string_view text) {
  std::string decoded;
  Scanner scanner(text, decoded);
  JsonKind kind;
  if (!scanner.Document(nullptr, kind)) return std::nullopt;
  return kind;
}

void JsonArrayElements(std::string_view array,
                       absl::InlinedVector<JsonValue, 8>& out) {
  std::string decoded;
  Scanner scanner(array, decoded);
  scanner.ArrayElements(out);
}

void AppendJsonString(std::string_view string, std::string& out) {
  const char* p = string.data() + 1;
  const char* const end = string.data() + string.size() - 1;
  while (p < end) {
    const char* run = p;
    while (p < end && *p != '\\') ++p;
    out.append(run, static_cast<std::size_t>(p - run));
    if (p == end) break;
    ++p;
    AppendUtf8(DecodeEscape(p), out);
  }
}

double JsonNumber(std::string_view number) {
  // Integers of up to 15 digits (every NumericDate) are exact doubles.
  const bool negative = number.front() == '-';
  const std::string_view digits = number.substr(negative ? 1 : 0);
  if (digits.size() <= 15 &&
      std::all_of(digits.begin(), digits.end(), IsDigit)) {
    std::int64_t integer = 0;
    for (char c : digits) integer = integer * 10 + (c - '0');
    const auto value = static_cast<double>(integer);
    return negative ? -value : value;
  }
  double value = 0;
  const std::from_chars_result result =
      std::from_chars(number.data(), number.data() + number.size(), value);
  // Overflow cannot happen for a valid number (the scanner refuses it);
  // underflow leaves `value` unspecified, and the nearest double is 0.
  if (result.ec == std::errc::result_out_of_range) {
    return number.front() == '-' ? -0.0 : 0.0;
  }
  return value;
}

void AppendCompactJson(std::string_view value, std::string& out) {
  while (!value.empty() && IsWhitespace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsWhitespace(value.back())) value.remove_suffix(1);
  if (value.empty()) return;
  if (value.front() == '"') {
    AppendCanonicalString(value, out);
    return;
  }
  if (value.front() != '{' && value.front() != '[') {
    out.append(value.data(), value.size());  // a number or literal
    return;
  }
  const char* p = value.data();
  const char* const end = p + value.size();
  while (p < end) {
    const char c = *p;
    if (c == '"') {
      bool escaped;
      const char* string_end = ValidStringEnd(p, escaped);
      const std::string_view text(p, static_cast<std::size_t>(string_end - p));
      if (escaped) {
        AppendCanonicalString(text, out);
      } else {
        out.append(text.data(), text.size());
      }
      p = string_end;
      continue;
    }
    if (!IsWhitespace(c)) out.push_back(c);
    ++p;
  }
}

absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text,
                                               std::string_view what) {
  {
    JsonObject object;
    absl::Status status = object.Parse(text, what);
    if (!status.ok()) return status;
  }
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(),
                                               /*cb=*/nullptr,
                                               /*allow_exceptions=*/false);
  if (!value.is_object()) {
    // Unreachable while the two parsers agree (jose_json_test checks it);
    // refusing keeps a disagreement from letting anything through.
    return absl::InvalidArgumentError(
        absl::StrCat(View(what), ": invalid JSON"));
  }
  return value;
}

absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& object, std::string_view name,
    std::string_view what) {
  auto it = object.find(name);
  if (it == object.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(View(what), ": \"", View(name), "\" must be a string"));
  }
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace keel::security_internal
