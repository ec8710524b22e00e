#pragma once

#include <string>
#include <string_view>

namespace signoff::http {

/// SHA-256 of `data`, as 64 lower-case hex digits.
[[nodiscard]] std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 of `data` under `key`, as 64 lower-case hex digits.
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key,
                                          std::string_view data);

/// `bytes` random bytes from the system's CSPRNG, as hex.
[[nodiscard]] std::string random_hex(std::size_t bytes);

/// Compares two strings in time independent of where they differ.
[[nodiscard]] bool constant_time_equal(std::string_view a,
                                       std::string_view b) noexcept;

/// URL-safe base64 without padding, and back (empty on malformed input).
[[nodiscard]] std::string base64url_encode(std::string_view bytes);
[[nodiscard]] std::string base64url_decode(std::string_view text);

} // namespace signoff::http
