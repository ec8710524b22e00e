// Fuzzes the HTTP request path: the input is the bytes a client sent on
// one connection (several pipelined requests, chunked bodies with their
// trailers), read by the server's own request reader as a connection
// reads them, and each request is answered by the server's router over a
// fresh orchestrator with paused runs. Nothing may throw out of the reader
// (Beast's parser threw for a trailer field of 64 KiB, which ended the
// server). Every answer must be well formed (JSON that parses, a complete
// HTML page without script that may not be framed, a local redirect,
// header values without line breaks, no body for HEAD) with a status
// below 500, and nothing may change what the credentials in the request's
// header do not allow (trailers add none).

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "check.hpp"
#include "request_reader.hpp"
#include "router.hpp"
#include "signoff/http/server.hpp"
#include "signoff/orchestrator.hpp"

namespace {

namespace json = boost::json;
namespace m = signoff::model;
namespace beast_http = boost::beast::http;
using signoff::fuzz::require;
using signoff::http::detail::request_reader;
using signoff::http::detail::response;

constexpr std::string_view admin_token = "admin-secret-token-0123456789";
constexpr std::string_view approver_token = "orders-secret-token-0123456789";
constexpr std::string_view reader_token = "reader-secret-token-0123456789";
/// What the approver token may decide.
constexpr std::string_view approver_prefix = "approval:order:";

/// Runs and the approval each waits on; the keys hold characters URLs and
/// HTML must escape, and the pending reason and metadata hold markup.
const std::map<std::string, std::string> runs_waiting{
  {"run-order", "approval:order:1"},
  {"run-finance", "approval:finance:2"},
  {"run/special%_\xC3\xBC", "approval:finance:100%_sure/or <b>not</b>"},
};
constexpr std::string_view decided_run = "run-decided";
constexpr std::string_view decided_key = "approval:order:decided";

signoff::http::server_options make_options() {
  signoff::http::server_options options;
  options.max_body_bytes = 4096; // small, so 413 is in reach
  options.link_secret = "link-secret-for-fuzzing-0123456789";
  options.form_secret = "form-secret-for-fuzzing-0123456789";
  auto add = [&](std::string_view spec) {
    require(!options.tokens.add_spec(spec), "the token spec parses", spec);
  };
  add("admin:" + std::string{admin_token} + "::*");
  add("orders:" + std::string{approver_token} + ":"
      + std::string{approver_prefix} + ":read,approve,reject");
  add("reader:" + std::string{reader_token} + ":approval:finance:|run:read");
  return options;
}

const signoff::http::server_options& options() {
  static const auto made = make_options();
  return made;
}

signoff::workflow waiting_workflow() {
  return [](signoff::step& step,
            const json::value& in) -> signoff::task<m::result<json::value>> {
    const std::string key{in.at("key").as_string()};
    co_await step.run("prepare", [&] { return json::value{{"key", key}}; });
    json::value note{{"note", "<script>alert(1)</script>"}};
    auto granted = co_await step.approval(
      key, m::approval_options{}
             .with_reason("check <i>this</i> & \"that\"")
             .with_quorum(in.at("quorum").to_number<std::uint32_t>())
             .with_metadata(std::move(note)));
    co_return json::value{{"granted", granted}};
  };
}

/// A fresh orchestrator with the runs of `runs_waiting` paused and one run
/// finished. The clock stands still, so nothing expires during an input.
struct fixture {
  signoff::orchestrator orch{{{.clock =
                                 [] {
                                   return m::from_millis(1'700'000'000'000);
                                 }},
                              nullptr,
                              1}};

  fixture() {
    orch.register_workflow("wait", waiting_workflow());
    auto start = [&](std::string_view run, std::string_view key, int quorum) {
      auto r = orch.execute("wait", {{"key", key}, {"quorum", quorum}},
                            {.run_id = std::string{run}});
      require(r.is_ok() && r->status == m::run_status::paused,
              "the fixture run pauses", run);
    };
    for (const auto& [run, key] : runs_waiting)
      start(run, key, key == "approval:finance:2" ? 2 : 1);
    start(decided_run, decided_key, 1);
    require(orch.grant_approval(std::string{decided_key}, "yes").is_ok(),
            "the fixture run is decided");
  }
};

/// The state of every fixture approval and run, serialized.
std::map<std::string, std::string> read_state(signoff::orchestrator& orch) {
  std::map<std::string, std::string> out;
  auto keep = [&](const std::string& name, const auto& r) {
    require(r.is_ok(), "the fixture reads", name);
    out[name] = json::serialize(json::value_from(r.value()));
  };
  for (const auto& [run, key] : runs_waiting) {
    keep("run " + run, orch.get_workflow_status(run));
    keep("approval " + key, orch.get_approval(key));
    keep("audit " + key, orch.audit_trail(key));
  }
  keep("run decided", orch.get_workflow_status(std::string{decided_run}));
  keep("approval decided", orch.get_approval(std::string{decided_key}));
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

/// True if `text` is UTF-8, as Boost.JSON's strict parser checks it.
bool is_utf8(std::string_view text) {
  boost::system::error_code ec;
  (void)json::parse(json::serialize(text), ec);
  return !ec;
}

void check_response(const response& res, std::string_view request, bool head) {
  const auto status = static_cast<unsigned>(res.result_int());
  require(status >= 200 && status < 500, "the status is 2xx to 4xx",
          std::to_string(status) + " for " + std::string{request});
  for (const auto& field : res)
    require(!contains(field.value(), "\r") && !contains(field.value(), "\n"),
            "header values have no line breaks");
  require(res.has_content_length(), "an answer has a Content-Length");
  require(res["X-Content-Type-Options"] == "nosniff"
            && res["Referrer-Policy"] == "same-origin",
          "an answer forbids sniffing and leaking its URL");
  if (head) {
    require(res.body().empty(), "an answer to HEAD has no body");
    return;
  }
  require(res[beast_http::field::content_length]
            == std::to_string(res.body().size()),
          "the Content-Length is the body's");
  const std::string_view type = res[beast_http::field::content_type];
  if (status == 303) {
    const std::string_view location = res[beast_http::field::location];
    require(location.starts_with("/") && !location.starts_with("//"),
            "a redirect stays on this server", location);
    require(res.body().empty(), "a redirect has no body");
  } else if (type == "application/json") {
    boost::system::error_code ec;
    (void)json::parse(res.body(), ec);
    require(!ec, "a JSON answer parses", res.body());
  } else {
    require(type == "text/html; charset=utf-8", "an answer is JSON or HTML",
            type);
    const auto& body = res.body();
    require(body.starts_with("<!doctype html>") && body.ends_with("</html>"),
            "an HTML answer is a whole page");
    require(res["X-Frame-Options"] == "DENY", "a page may not be framed");
    require(!contains(lower(body), "<script"), "a page holds no script", body);
    require(is_utf8(body), "a page is UTF-8, as it declares", body);
  }
}

/// The keys the credentials in the request's header may change, or every
/// key for an administrator (and for signed links, whose signature is the
/// credential). A body or a trailer carries no credential.
std::optional<std::string_view> allowed_prefix(std::string_view request) {
  const auto header = request.substr(0, request.find("\r\n\r\n"));
  if (contains(header, admin_token) || contains(header, "/act/"))
    return "";
  if (contains(header, approver_token))
    return approver_prefix;
  return std::nullopt;
}

/// Nothing changed beyond what the credentials in `request` allow: runs
/// change only with their approval.
void check_authorized(const std::map<std::string, std::string>& before,
                      const std::map<std::string, std::string>& after,
                      std::string_view request) {
  const auto prefix = allowed_prefix(request);
  auto may_change = [&](std::string_view key) {
    return prefix && key.starts_with(*prefix);
  };
  auto changed = [&](const std::string& name) {
    return before.at(name) != after.at(name);
  };
  for (const auto& [run, key] : runs_waiting) {
    const bool allowed = may_change(key);
    require(allowed
              || (!changed("approval " + key) && !changed("audit " + key)
                  && !changed("run " + run)),
            "an approval changes only with credentials for it", key);
  }
  require(!changed("approval decided") && !changed("run decided"),
          "a decided approval and a finished run never change");
}

/// Reads the next request off `bytes` as a connection does: what arrives
/// goes to the reader in the pieces it asks for; returns the error the
/// read ended with.
boost::beast::error_code read_request(std::string_view& bytes,
                                      request_reader& reader) {
  for (;;) {
    const auto ec = reader.parse();
    if (ec != beast_http::error::need_more)
      return ec;
    if (bytes.empty())
      return reader.end_of_input(); // the client sent nothing more
    const auto space = reader.prepare();
    const auto n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    reader.commit(n);
    bytes.remove_prefix(n);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  // A connection is closed after the answer to a malformed request.
  constexpr int max_requests = 4;
  const std::string_view input{reinterpret_cast<const char*>(data), // NOLINT
                               size};
  auto unread = input;
  std::size_t start = 0;
  fixture f;
  const signoff::http::detail::router routes{f.orch, options()};
  request_reader reader{options().max_body_bytes};
  for (int i = 0; i < max_requests && start < input.size(); ++i) {
    const auto ec = read_request(unread, reader);
    const auto request = input.substr(start, reader.request_size());
    start += reader.request_size();
    const auto before = read_state(f.orch);
    auto res = routes.respond(reader.parser(), ec);
    if (!res)
      break;
    check_response(*res, request,
                   reader.parser().get().method() == beast_http::verb::head);
    check_authorized(before, read_state(f.orch), request);
    if (ec || !res->keep_alive())
      break;
    reader.next();
  }
  return 0;
}
