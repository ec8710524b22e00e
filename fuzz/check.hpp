#pragma once

// What the fuzz targets share: how an input is cut into fields, and how a
// broken invariant stops the run. An abort is what libFuzzer saves as a
// crashing input, and what makes a replay test fail.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace signoff::fuzz {

/// Stops the process, naming the invariant, unless `holds`.
inline void require(bool holds, std::string_view invariant,
                    std::string_view detail = {}) {
  if (holds)
    return;
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n%.*s\n",
               static_cast<int>(invariant.size()), invariant.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

/// Reads a fuzz input front to back: selector bytes, then length-prefixed
/// fields, then the rest.
class input_reader {
public:
  input_reader(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {} // NOLINT

  /// The next byte, 0 when none is left.
  std::uint8_t byte() {
    if (rest_.empty())
      return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  /// A field of up to 255 bytes whose length is the next byte.
  std::string_view field() {
    auto n = std::min<std::size_t>(byte(), rest_.size());
    auto out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }

  /// Everything not read yet.
  [[nodiscard]] std::string_view rest() const noexcept {
    return rest_;
  }

private:
  std::string_view rest_;
};

} // namespace signoff::fuzz
