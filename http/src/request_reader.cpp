#include "request_reader.hpp"

#include <algorithm>
#include <iterator>
#include <vector>

#include <boost/beast/core/string.hpp>

namespace signoff::http::detail {

namespace {

namespace beast_http = boost::beast::http;

/// How much one read may add to what is buffered.
constexpr std::size_t read_size = 64 * 1024;

} // namespace

request_reader::request_reader(std::size_t max_body) : max_body_(max_body) {
  next();
}

boost::asio::mutable_buffer request_reader::prepare() {
  return buffer_.prepare(read_size);
}

void request_reader::commit(std::size_t n) {
  buffer_.commit(n);
}

boost::beast::error_code request_reader::parse() {
  auto& parser = *parser_;
  for (;;) {
    if (parser.is_done())
      return finish();
    if (buffer_.size() == 0)
      return beast_http::error::need_more;
    // What the header left of the limit bounds every byte the parser holds
    // back to parse as a whole: a chunk line, or the trailers.
    const auto window = header_limit - header_bytes_.value_or(0);
    const auto seen = std::min(buffer_.size(), window);
    boost::beast::error_code ec;
    const auto used
      = parser.put(boost::asio::const_buffer{buffer_.data().data(), seen}, ec);
    buffer_.consume(used);
    request_size_ += used;
    if (!header_bytes_ && parser.is_header_done()) {
      // Not eager until now, so the call that completed the header read
      // nothing past it.
      header_bytes_ = used;
      const auto& fields = parser.get();
      header_fields_
        = static_cast<std::size_t>(std::distance(fields.begin(), fields.end()));
      continue_owed_
        = parser.get().version() == 11
          && boost::beast::iequals(parser.get()[beast_http::field::expect],
                                   "100-continue");
      parser.eager(true);
    }
    if (ec && ec != beast_http::error::need_more)
      return ec;
    if (used == 0 && !parser.is_done())
      return buffer_.size() >= window
               ? boost::beast::error_code{beast_http::error::header_limit}
               : boost::beast::error_code{beast_http::error::need_more};
  }
}

boost::beast::error_code request_reader::end_of_input() {
  if (!parser_->got_some())
    return beast_http::error::end_of_stream;
  boost::beast::error_code ec;
  parser_->put_eof(ec);
  return ec ? ec : finish();
}

bool request_reader::take_continue() {
  const bool owed = continue_owed_ && !parser_->is_done();
  continue_owed_ = false;
  return owed;
}

void request_reader::next() {
  parser_.emplace();
  parser_->header_limit(header_limit);
  parser_->body_limit(max_body_);
  parser_->eager(false);
  header_bytes_.reset();
  header_fields_ = 0;
  request_size_ = 0;
  continue_owed_ = false;
}

boost::beast::error_code request_reader::finish() {
  auto& message = parser_->get();
  std::vector<beast_http::fields::const_iterator> trailers;
  std::size_t trailer_bytes = 0;
  auto field = message.begin();
  std::advance(field, header_fields_);
  for (; field != message.end(); ++field) {
    trailers.push_back(field);
    // As a header line: "name: value\r\n".
    trailer_bytes += field->name_string().size() + field->value().size() + 4;
  }
  for (const auto& trailer : trailers)
    message.erase(trailer);
  if (message.body().size() + trailer_bytes > max_body_)
    return beast_http::error::body_limit;
  return {};
}

} // namespace signoff::http::detail
