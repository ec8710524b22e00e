#pragma once

// Reads the requests of one connection from the bytes it sends. Beast's
// parser limits a header but not a chunked body's trailers nor its chunk
// lines, and throws std::length_error for a trailer field of 64 KiB; so
// the parser only ever sees a window of the bytes read, no larger than
// what is left of the header limit.

#include <cstddef>
#include <optional>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace signoff::http::detail {

using request_parser
  = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// The most a request's header, its chunk lines and its trailers may take
/// together: 8 KiB.
inline constexpr std::size_t header_limit = 8 * 1024;

/// One connection's requests, one after another. Not thread-safe.
class request_reader {
public:
  /// Bodies (with their trailers) over `max_body` bytes are refused.
  explicit request_reader(std::size_t max_body);

  /// Space for the next bytes from the peer.
  [[nodiscard]] boost::asio::mutable_buffer prepare();

  /// `n` bytes arrived in the space `prepare` gave.
  void commit(std::size_t n);

  /// Parses what arrived. Returns `need_more` until the request is complete
  /// (no error) or refused: Beast's parse errors, `header_limit` when the
  /// header, chunk lines and trailers pass `header_limit` bytes,
  /// `body_limit` when the body and its trailers pass `max_body`. Trailers
  /// are dropped from a complete request: they never add header fields
  /// (RFC 9110, 6.5.1).
  [[nodiscard]] boost::beast::error_code parse();

  /// The peer sent all it will send: the request is complete (no error),
  /// cut short (`partial_message`), or there was none (`end_of_stream`).
  [[nodiscard]] boost::beast::error_code end_of_input();

  /// True, once, when a header that expects "100 Continue" was read and
  /// its body is still to come (RFC 9110, 10.1.1).
  [[nodiscard]] bool take_continue();

  /// The request as far as it was read.
  [[nodiscard]] const request_parser& parser() const noexcept {
    return *parser_;
  }

  /// How many of the connection's bytes the request took so far.
  [[nodiscard]] std::size_t request_size() const noexcept {
    return request_size_;
  }

  /// Starts on the connection's next request; bytes read past this one
  /// are kept for it.
  void next();

private:
  /// The error for a request whose bytes all arrived.
  boost::beast::error_code finish();

  std::size_t max_body_;
  boost::beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  /// The header's size and field count, once it is read.
  std::optional<std::size_t> header_bytes_;
  std::size_t header_fields_ = 0;
  std::size_t request_size_ = 0;
  bool continue_owed_ = false;
};

} // namespace signoff::http::detail
