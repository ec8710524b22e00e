#include "hostile/requests.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <utility>

#include <boost/json.hpp>

#include "http/client.hpp"
#include "http/test_server.hpp"
#include "signoff/http/crypto.hpp"
#include "signoff/model/limits.hpp"

namespace signoff::test::hostile {

namespace {

using boost::json::value;
using http_client::form_encode;
using http_client::url_encode;
using rng = std::mt19937_64;
using fields = http_client::header_list;
using http_client::bearer;

// --- Randomness --------------------------------------------------------------

std::size_t below(rng& r, std::size_t n) {
  return std::uniform_int_distribution<std::size_t>{0, n - 1}(r);
}

bool chance(rng& r, double p) {
  return std::bernoulli_distribution{p}(r);
}

template <class T>
const T& pick(rng& r, const std::vector<T>& items) {
  return items[below(r, items.size())];
}

std::string pick(rng& r, std::initializer_list<std::string_view> items) {
  return std::string{*(items.begin() + below(r, items.size()))};
}

/// A size between `low` and `high`, small ones as likely as large ones.
std::size_t log_uniform(rng& r, std::size_t low, std::size_t high) {
  std::uniform_real_distribution<double> d{std::log(static_cast<double>(low)),
                                           std::log(static_cast<double>(high))};
  return std::clamp(static_cast<std::size_t>(std::exp(d(r))), low, high);
}

/// `n` bytes of any value but CR and LF.
std::string random_bytes(rng& r, std::size_t n) {
  std::string out;
  while (out.size() < n) {
    auto c = static_cast<char>(below(r, 256));
    if (c != '\r' && c != '\n')
      out += c;
  }
  return out;
}

std::string random_word(rng& r, std::size_t max_length = 12) {
  static constexpr std::string_view letters
    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  std::string out;
  for (std::size_t n = 1 + below(r, max_length); n > 0; --n)
    out += letters[below(r, letters.size())];
  return out;
}

// --- Requests on the wire ----------------------------------------------------

std::string to_wire(std::string_view method, std::string_view target,
                    const fields& headers,
                    const std::optional<std::string>& body = std::nullopt) {
  std::string out = std::string{method} + " " + std::string{target}
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, v] : headers)
    out += name + ": " + v + "\r\n";
  if (body)
    out += "Content-Length: " + std::to_string(body->size()) + "\r\n";
  out += "\r\n";
  if (body)
    out += *body;
  return out;
}

fields cookie(std::string_view token) {
  return {{"Cookie", "signoff_token=" + std::string{token}}};
}

fields with(fields a, const fields& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const fields json_type{{"Content-Type", "application/json"}};
const fields form_type{{"Content-Type", "application/x-www-form-urlencoded"}};

hostile_request json_request(std::string what, std::string wire,
                             std::vector<unsigned> statuses) {
  return {{},
          std::move(what),
          std::move(wire),
          std::move(statuses),
          answer_format::json};
}

hostile_request html_request(std::string what, std::string wire,
                             std::vector<unsigned> statuses) {
  return {{},
          std::move(what),
          std::move(wire),
          std::move(statuses),
          answer_format::html};
}

/// POST /api/approvals with `body` as `token`.
std::string decision_wire(std::string_view token, std::string body) {
  return to_wire("POST", "/api/approvals", with(bearer(token), json_type),
                 std::move(body));
}

/// The form field that proves a form came from a page of `token`'s.
std::string form_field(std::string_view token) {
  return "form=" + form_token_for(token);
}

/// POST /inbox/decide with the form `body` as an inbox page signed in as
/// `token` sends it (its form token first).
std::string form_wire(std::string_view token, const std::string& body) {
  return to_wire("POST", "/inbox/decide", with(cookie(token), form_type),
                 form_field(token) + "&" + body);
}

// --- What the world holds ----------------------------------------------------

const std::vector<std::string>& valid_tokens() {
  static const std::vector<std::string> tokens{
    std::string{admin_token}, std::string{finance_token},
    std::string{reader_token}, std::string{finops_token}};
  return tokens;
}

std::vector<std::string> all_keys(const world& w) {
  auto keys = w.pending_keys;
  keys.insert(keys.end(), w.decided_keys.begin(), w.decided_keys.end());
  return keys;
}

std::vector<world::run> all_runs(const world& w) {
  auto runs = w.paused_runs;
  runs.insert(runs.end(), w.finished_runs.begin(), w.finished_runs.end());
  return runs;
}

bool covered_by_finance(std::string_view key) {
  return key.starts_with(finance_prefix);
}

bool covered_by_finance(const world::run& run) {
  return std::all_of(run.keys.begin(), run.keys.end(),
                     [](const auto& k) { return covered_by_finance(k); });
}

/// A decision body that would be taken for a pending key: each action with
/// what it needs.
boost::json::object valid_decision(rng& r, const std::string& key,
                                   std::string action = {}) {
  if (action.empty())
    action = pick(r, {"approve", "reject", "edit", "cancel"});
  boost::json::object body{{"key", key}, {"action", action}};
  if (action == "reject" || chance(r, 0.3))
    body["reason"] = "because " + random_word(r);
  if (action == "edit" || chance(r, 0.3))
    body["value"] = {{"amount", static_cast<int>(below(r, 10000))}};
  if (chance(r, 0.2))
    body["actorId"] = random_word(r);
  return body;
}

std::string text_of(const boost::json::object& o) {
  return boost::json::serialize(o);
}

// --- Hostile text ------------------------------------------------------------

/// Bytes that break naive matching, paths, escaping or UTF-8.
const std::vector<std::string>& nasty_fragments() {
  static const std::vector<std::string> fragments{
    std::string(1, '\0'),
    "\x01",
    "\x1f",
    "\x7f",
    "\t",
    "\r\n",
    " ",
    "%",
    "_",
    "*",
    "?",
    "[",
    "]",
    "[a-z]",
    "..",
    "/",
    "../",
    "\\",
    "'",
    "\"",
    "%25",
    "%_",
    ".*",
    "<x-hostile>",
    "\xff",
    "\xc0\x80",
    "\x80",
    "\xed\xa0\x80",
    "\xe6\x97",
    "\xf0\x9f\x98\x80",
  };
  return fragments;
}

const std::vector<std::string>& wildcards() {
  static const std::vector<std::string> w{"%",  "_",  "*",  "?",     "[",
                                          "%%", "_%", "*?", "[0-9]", ".*"};
  return w;
}

/// `base` changed by one or two hostile edits.
std::string mutate(rng& r, std::string s) {
  for (auto edits = 1 + below(r, 2); edits > 0; --edits) {
    const auto at = below(r, s.size() + 1);
    switch (below(r, 7)) {
      case 0:
        s.insert(at, pick(r, nasty_fragments()));
        break;
      case 1:
        s = s.substr(0, at) + pick(r, wildcards());
        break;
      case 2:
        s += pick(r, nasty_fragments());
        break;
      case 3:
        for (auto& c : s)
          if (std::isalpha(static_cast<unsigned char>(c)) != 0
              && chance(r, 0.3))
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        break;
      case 4: {
        const auto length
          = model::max_approval_key_bytes + 1 + log_uniform(r, 1, 1000);
        while (s.size() < length)
          s += chance(r, 0.1) ? pick(r, nasty_fragments()) : random_word(r);
        break;
      }
      case 5:
        s = url_encode(s);
        break;
      default:
        if (s.size() > 1)
          s.resize(1 + below(r, s.size() - 1));
        else
          s += pick(r, wildcards());
    }
  }
  // Longer would not fit a request line once percent-encoded.
  if (s.size() > 1500)
    s.resize(model::max_approval_key_bytes + 1 + below(r, 1000));
  return s.empty() ? pick(r, wildcards()) : s;
}

/// A name that is none of `known` but looks like them, or like a pattern
/// that would match them.
std::string hostile_name(rng& r, const std::vector<std::string>& known,
                         std::initializer_list<std::string_view> bases) {
  const std::set<std::string> taken(known.begin(), known.end());
  for (;;) {
    auto base = chance(r, 0.7) ? pick(r, known) : pick(r, bases);
    auto name = mutate(r, std::move(base));
    if (!taken.contains(name))
      return name;
  }
}

std::string hostile_key(const world& w, rng& r) {
  return hostile_name(
    r, all_keys(w),
    {"approval:finance:", "approval:order:", "approval:", "approval", ""});
}

std::string hostile_run_id(const world& w, rng& r) {
  std::vector<std::string> ids;
  for (const auto& run : all_runs(w))
    ids.push_back(run.id);
  return hostile_name(r, ids, {"run-", "run", "run/"});
}

/// A JSON value of any shape with hostile strings.
value random_json(rng& r, int depth) {
  switch (below(r, depth > 0 ? 8 : 6)) {
    case 0:
      return nullptr;
    case 1:
      return chance(r, 0.5);
    case 2:
      return static_cast<std::int64_t>(r());
    case 3:
      return std::uniform_real_distribution<double>{-1e300, 1e300}(r);
    case 4:
    case 5: {
      auto s = random_word(r);
      if (chance(r, 0.5))
        s += pick(r, {std::string_view{"\0", 1}, "\x01", "\"", "\\",
                      "<x-hostile>", "\xc3\xa9", "%_*?["});
      return value(s);
    }
    case 6: {
      boost::json::array a;
      for (auto n = below(r, 4); n > 0; --n)
        a.push_back(random_json(r, depth - 1));
      return a;
    }
    default: {
      boost::json::object o;
      for (auto n = below(r, 4); n > 0; --n)
        o[random_word(r)] = random_json(r, depth - 1);
      return o;
    }
  }
}

/// A value of every type but string (and, unless `null_ok`, not null).
value wrong_type(rng& r, const std::string& key, bool null_ok = true) {
  const std::vector<value> values{true,
                                  false,
                                  0,
                                  -1,
                                  1.5,
                                  1e300,
                                  boost::json::array{},
                                  {key},
                                  boost::json::object{},
                                  {{"key", key}},
                                  {{"a", {1, {2, {3}}}}}};
  if (null_ok && chance(r, 0.15))
    return nullptr;
  return pick(r, values);
}

/// `[[[...]]]` or `{"a":{"a":...}}` (maybe unclosed) nested from 33 levels,
/// past any sane parser limit, to 100,000, or as deep as fits `max_bytes`.
std::string nested(rng& r, std::size_t max_bytes) {
  const bool objects = chance(r, 0.4);
  const std::string open = objects ? R"({"a":)" : "[";
  const auto per_level = open.size() + 1;
  const auto depth = log_uniform(
    r, 33, std::min<std::size_t>(100'000, (max_bytes - 1) / per_level));
  std::string out;
  out.reserve(depth * per_level + 1);
  for (std::size_t i = 0; i < depth; ++i)
    out += open;
  out += "1";
  if (chance(r, 0.8))
    out += std::string(depth, objects ? '}' : ']');
  return out;
}

// --- The categories ----------------------------------------------------------

using generator = hostile_request (*)(const world&, rng&, std::size_t);

/// POST /api/approvals with bodies that are not JSON, not an object, or no
/// decision at all: 400 for every token, before its permissions.
hostile_request garbage_json(const world& w, rng& r, std::size_t) {
  const auto valid = text_of(valid_decision(r, pick(r, w.pending_keys)));
  std::string what;
  std::string body;
  switch (below(r, 6)) {
    case 0:
      what = "random bytes";
      body = pick(r, {"}", "]", ",", ":", "\x01", "\xff", "'", "+1", "<"})
             + random_bytes(r, below(r, 300));
      break;
    case 1:
      what = "a truncated decision";
      body = valid.substr(0, below(r, valid.size()));
      break;
    case 2:
      what = "a decision with trailing garbage";
      body = valid
             + pick(r, {"x", "}", ",", "{}", std::string_view{"\0", 1},
                        " and more", "[]", "\x01"});
      break;
    case 3:
      what = "a decision with invalid UTF-8";
      body = valid;
      body.insert(body.find("approval:") + below(r, 9),
                  pick(r, {"\xff", "\xc0\x80", "\x80", "\xed\xa0\x80",
                           "\xf5\x80\x80\x80", "\xe6\x97"}));
      break;
    case 4: {
      what = "JSON that is not an object";
      value v = random_json(r, 3);
      while (v.is_object())
        v = random_json(r, 3);
      body = boost::json::serialize(v);
      break;
    }
    default: {
      what = "an object without a key";
      auto v = random_json(r, 3);
      boost::json::object o;
      if (v.is_object())
        o = v.as_object();
      o.erase("key");
      o["action"] = "approve";
      body = text_of(o);
    }
  }
  return json_request(what, decision_wire(pick(r, valid_tokens()), body),
                      {400});
}

/// Decisions on pending keys with one field of the wrong type, missing or
/// empty, and run cancellations with a wrong body: 400.
hostile_request wrong_types(const world& w, rng& r, std::size_t) {
  const auto key = pick(r, w.pending_keys);
  if (chance(r, 0.2)) {
    const auto& run = pick(r, w.paused_runs);
    std::string body;
    switch (below(r, 4)) {
      case 0:
        body = boost::json::serialize(
          boost::json::object{{"reason", wrong_type(r, key)}});
        break;
      case 1: {
        value v = random_json(r, 2);
        while (v.is_object())
          v = random_json(r, 2);
        body = boost::json::serialize(v);
        break;
      }
      case 2:
        body = pick(r, {" ", "\t", "{", "reason=x", "{\"reason\":}"});
        break;
      default:
        body = R"({"reason":"x"})" + pick(r, {"x", "}", "{}", ","});
    }
    return json_request("a cancellation with a wrong body",
                        to_wire("POST", run_path(run.id) + "/cancel",
                                with(bearer(admin_token), json_type), body),
                        {400});
  }
  auto body = valid_decision(r, key);
  const std::string action{body["action"].as_string()};
  std::string what;
  switch (below(r, 8)) {
    case 0:
      what = "a key of the wrong type";
      body["key"] = wrong_type(r, key);
      break;
    case 1:
      what = chance(r, 0.5) ? "no key" : "an empty key";
      if (what == "no key")
        body.erase("key");
      else
        body["key"] = "";
      break;
    case 2:
      what = "an action of the wrong type";
      body["action"] = wrong_type(r, key);
      break;
    case 3:
      what = "an unknown action";
      body["action"]
        = pick(r, {"Approve", "APPROVE", " approve", "approve ",
                   std::string_view{"approve\0", 8}, "grant", "approved", "",
                   "reject\n", "expire", "approve-all", "delete"});
      break;
    case 4:
      what = "no action";
      body.erase("action");
      break;
    case 5:
      what = "a reason of the wrong type";
      body["reason"] = wrong_type(r, key, false);
      break;
    case 6:
      what = "an actorId of the wrong type";
      body["actorId"] = wrong_type(r, key, false);
      break;
    default:
      if (action == "edit") {
        what = "an edit without value";
        body.erase("value");
      } else {
        what = "a reject without reason";
        body["action"] = "reject";
        if (chance(r, 0.5))
          body.erase("reason");
        else
          body["reason"] = chance(r, 0.5) ? value("") : value(nullptr);
      }
  }
  return json_request(
    what, decision_wire(pick(r, valid_tokens()), text_of(body)), {400});
}

/// JSON nested far deeper than any real decision, up to 100,000 levels: a
/// refusal, not a stack overflow.
hostile_request deep_nesting(const world& w, rng& r, std::size_t max_body) {
  switch (below(r, 4)) {
    case 0: {
      auto body = text_of(valid_decision(r, pick(r, w.decided_keys)));
      body.insert(body.size() - 1,
                  R"(,"value":)" + nested(r, max_body - body.size() - 64));
      return json_request("a deep value for a decided approval",
                          decision_wire(admin_token, body), {400, 409});
    }
    case 1: {
      const auto& run = pick(r, w.paused_runs);
      return json_request(
        "a deep reason for a cancellation",
        to_wire("POST", run_path(run.id) + "/cancel",
                with(bearer(admin_token), json_type),
                R"({"reason":)" + nested(r, max_body - 20) + "}"),
        {400});
    }
    case 2: {
      const auto form = form_encode(
        {{"key", pick(r, w.decided_keys)}, {"action", "edit"}, {"value", ""}});
      return html_request(
        "a deep edit value in the inbox form",
        form_wire(admin_token,
                  form + url_encode(nested(r, max_body / 3 - 200))),
        {400, 409});
    }
    default:
      return json_request(
        "a deeply nested body",
        decision_wire(pick(r, valid_tokens()), nested(r, max_body - 16)),
        {400});
  }
}

/// Bodies over the limit, whole, chunked or only announced: 413 before
/// anything is read or decided, whoever sends them.
hostile_request oversized(const world& w, rng& r, std::size_t max_body) {
  const auto size = max_body + 1 + log_uniform(r, 1, 3 * max_body);
  const auto pending = pick(r, w.pending_keys);
  const auto pad = [&](std::string head, std::string_view tail) {
    head += std::string(size - std::min(size, head.size() + tail.size()), 'x');
    return head + std::string{tail};
  };
  std::string target;
  fields headers;
  std::string body;
  switch (below(r, 5)) {
    case 0:
      target = "/api/approvals";
      headers = with(bearer(admin_token), json_type);
      body = pad(R"({"key":)" + boost::json::serialize(value(pending))
                   + R"(,"action":"approve","value":{"pad":")",
                 R"("}})");
      break;
    case 1:
      target = run_path(pick(r, w.paused_runs).id) + "/cancel";
      headers = with(bearer(admin_token), json_type);
      body = pad(R"({"reason":")", R"("})");
      break;
    case 2:
      target = "/inbox/decide";
      headers = with(cookie(admin_token), form_type);
      body = pad(
        form_encode({{"key", pending}, {"action", "approve"}}) + "&pad=", "");
      break;
    case 3:
      target = "/act/" + w.reject_link;
      headers = form_type;
      body = pad("reason=", "");
      break;
    default:
      target = "/" + random_word(r);
      body = random_bytes(r, size);
  }
  std::string wire;
  std::string what;
  switch (below(r, 3)) {
    case 0:
      what = "a body over the limit";
      wire = to_wire("POST", target, headers, body);
      break;
    case 1: {
      what = "a chunked body over the limit";
      wire = to_wire("POST", target,
                     with(headers, {{"Transfer-Encoding", "chunked"}}));
      for (std::size_t at = 0; at < body.size();) {
        const auto piece = std::min(body.size() - at, log_uniform(r, 1, 65536));
        static constexpr char hex[] = "0123456789abcdef";
        std::string length;
        for (auto n = piece; n > 0; n >>= 4U)
          length.insert(length.begin(), hex[n & 0xFU]);
        wire += length + "\r\n" + body.substr(at, piece) + "\r\n";
        at += piece;
      }
      wire += "0\r\n\r\n";
      break;
    }
    default:
      what = "a Content-Length far over the limit, no body";
      wire = to_wire(
        "POST", target,
        with(headers, {{"Content-Length",
                        std::to_string(log_uniform(
                          r, max_body + 1,
                          std::numeric_limits<std::uint32_t>::max()))}}));
  }
  return json_request(what + " (" + target.substr(0, 40) + ")", wire, {413});
}

/// Keys and run ids that are not there but look like what is: control
/// bytes, NUL, LIKE and glob metacharacters, '..' and '/', case changes,
/// invalid UTF-8, markup, keys over the size limit (refused with 400, reads
/// included: the LMDB store refuses a key no store can hold).
hostile_request hostile_keys(const world& w, rng& r, std::size_t) {
  const auto key = hostile_key(w, r);
  const bool too_long = key.size() > model::max_approval_key_bytes;
  const bool utf8 = is_utf8(key);
  switch (below(r, 9)) {
    case 0: {
      auto body = valid_decision(r, key);
      return json_request("deciding a hostile key",
                          decision_wire(admin_token, text_of(body)),
                          {!utf8 || too_long ? 400U : 404U});
    }
    case 1:
      return json_request(
        "reading a hostile key",
        to_wire("GET", approval_path(key), bearer(admin_token)),
        {too_long ? 400U : 404U});
    case 2:
      return json_request(
        "the audit trail of a hostile key",
        to_wire("GET", approval_path(key) + "/audit", bearer(admin_token)),
        {too_long ? 400U : 404U});
    case 3:
      return html_request("the inbox page of a hostile key",
                          to_wire("GET",
                                  "/inbox/approval?key=" + url_encode(key),
                                  cookie(admin_token)),
                          {too_long ? 400U : 404U});
    case 4:
      return html_request(
        "an inbox decision on a hostile key",
        form_wire(admin_token,
                  form_encode({{"key", key},
                               {"action", pick(r, {"approve", "cancel"})}})),
        {too_long ? 400U : 404U});
    case 5: {
      auto body = valid_decision(r, key, "approve");
      const unsigned status
        = !utf8 ? 400U
                : (!covered_by_finance(key) ? 403U : (too_long ? 400U : 404U));
      return json_request("the finance token deciding a hostile key",
                          decision_wire(finance_token, text_of(body)),
                          {status});
    }
    case 6:
      return json_request(
        "the finance token reading a hostile key",
        to_wire("GET", approval_path(key), bearer(finance_token)),
        {!covered_by_finance(key) ? 403U : (too_long ? 400U : 404U)});
    case 7: {
      const auto id = hostile_run_id(w, r);
      const unsigned status = id.size() > model::max_run_id_bytes ? 400U : 404U;
      if (chance(r, 0.5))
        return json_request("reading a hostile run id",
                            to_wire("GET", run_path(id), bearer(admin_token)),
                            {status});
      return json_request("cancelling a hostile run id",
                          to_wire("POST", run_path(id) + "/cancel",
                                  with(bearer(admin_token), json_type),
                                  R"({"reason":"hostile"})"),
                          {status});
    }
    default: {
      // A genuine signature over a key nobody asked for. A key that is not
      // UTF-8 cannot be read back from the signed JSON: a forgery.
      // Cut so that the link fits a request line.
      const auto cut = key.substr(0, 700);
      const auto link = link_for(cut, model::decision_kind::grant, "mallory");
      return html_request("a signed link for a hostile key",
                          to_wire(pick(r, {"GET", "POST"}),
                                  "/act/" + url_encode(link), form_type, ""),
                          {!is_utf8(cut) ? 403U
                           : cut.size() > model::max_approval_key_bytes
                             ? 400U
                             : 404U});
    }
  }
}

/// Listings by a prefix or workflow name full of metacharacters: 200 with
/// exactly the literal matches the token may see.
hostile_request literal_reads(const world& w, rng& r, std::size_t) {
  const auto token = pick(r, {admin_token, reader_token, finance_token});
  const bool finance = token == finance_token;
  std::vector<std::string> expected;
  std::string target;
  std::string what;
  if (chance(r, 0.6)) {
    std::string prefix;
    if (chance(r, 0.3)) {
      const auto key = pick(r, w.pending_keys);
      prefix = key.substr(0, below(r, key.size() + 1)) + pick(r, wildcards());
    } else {
      prefix = mutate(r, pick(r, w.pending_keys));
    }
    for (const auto& key : w.pending_keys)
      if (key.starts_with(prefix)
          && prefix.size() <= model::max_approval_key_bytes
          && (!finance || covered_by_finance(key)))
        expected.push_back(key);
    what = "pending approvals by a hostile prefix";
    target = "/api/approvals?prefix=" + url_encode(prefix);
  } else {
    const auto name
      = chance(r, 0.2) ? std::string{} : mutate(r, pick(r, {"gate", "order"}));
    for (const auto& run : w.paused_runs)
      if ((name.empty() || run.workflow == name)
          && (!finance || covered_by_finance(run)))
        expected.push_back(run.id);
    what = "paused runs by a hostile workflow name";
    target = "/api/workflows?name=" + url_encode(name);
    // A name longer than any workflow's is refused, like a key.
    if (name.size() > model::max_workflow_name_bytes)
      return json_request(what, to_wire("GET", target, bearer(token)), {400});
  }
  std::sort(expected.begin(), expected.end());
  auto out = json_request(what, to_wire("GET", target, bearer(token)), {200});
  out.listing = std::move(expected);
  return out;
}

/// An endpoint and the answer format it uses.
struct endpoint {
  std::string target;
  answer_format format;
};

std::vector<endpoint> every_endpoint(const world& w, rng& r) {
  const auto pending = pick(r, w.pending_keys);
  const auto& run = pick(r, w.paused_runs);
  const auto json = answer_format::json;
  const auto html = answer_format::html;
  return {
    {"/health", json},
    {"/", json},
    {"/api/approvals", json},
    {approval_path(pending), json},
    {approval_path(pending) + "/audit", json},
    {"/api/workflows", json},
    {run_path(run.id), json},
    {run_path(run.id) + "/cancel", json},
    {"/inbox", html},
    {"/inbox/approval?key=" + url_encode(pending), html},
    {"/inbox/decide", html},
    {"/login?token=" + std::string{admin_token}, html},
    {"/act/" + pick(r, w.used_links), html},
    {"/act/" + w.reject_link, html},
  };
}

/// Methods no endpoint takes, and POST where only GET is served: 404 even
/// with every credential and a body that would decide.
hostile_request methods(const world& w, rng& r, std::size_t) {
  const auto ep = pick(r, every_endpoint(w, r));
  std::string method;
  if (chance(r, 0.2)) {
    method = "POST";
    if (ep.target.ends_with("/cancel") || ep.target == "/api/approvals"
        || ep.target == "/inbox/decide" || ep.target.starts_with("/act/")
        || ep.target.starts_with("/login")) {
      method = "PUT";
    }
  } else {
    method = chance(r, 0.8)
               ? pick(r, {"DELETE", "PUT", "PATCH", "OPTIONS", "TRACE",
                          "PROPFIND", "MKCOL", "LINK", "PURGE", "get", "Get",
                          "FOO", "POSTX", "GETT"})
               : random_word(r);
    // Letters only: anything else is not a method token at all.
    method.erase(
      std::remove_if(method.begin(), method.end(),
                     [](char c) {
                       return std::isalpha(static_cast<unsigned char>(c)) == 0;
                     }),
      method.end());
    if (method.empty() || method == "GET" || method == "POST"
        || method == "HEAD" || method == "CONNECT")
      method = "FOO";
  }
  const auto body
    = ep.target.starts_with("/inbox") || ep.target.starts_with("/act")
        ? form_encode({{"key", pick(r, w.pending_keys)},
                       {"action", "approve"},
                       {"reason", "hostile"}})
        : text_of(valid_decision(r, pick(r, w.pending_keys), "approve"));
  const auto headers
    = with(with(bearer(admin_token), cookie(admin_token)),
           ep.format == answer_format::json ? json_type : form_type);
  return {{},
          method == "POST" ? "POST where only GET is served"
                           : "a method no endpoint takes",
          to_wire(method, ep.target, headers, body),
          {404},
          ep.format};
}

/// Paths no endpoint has (near misses, '..', '.', empty segments, wrong
/// case) and malformed percent-escapes: 404, and 400 for bad escapes.
hostile_request paths(const world& w, rng& r, std::size_t) {
  const auto pending = url_encode(pick(r, w.pending_keys));
  const auto run = url_encode(pick(r, w.paused_runs).id);
  const auto link = pick(r, w.used_links);
  const auto credentials = with(bearer(admin_token), cookie(admin_token));
  if (chance(r, 0.4)) {
    // A malformed escape anywhere in a real target.
    auto ep = pick(r, every_endpoint(w, r));
    auto target = ep.target;
    const auto bad = pick(r, {"%zz", "%G1", "%%", "%-1", "%x", "%\x7e\x7e"});
    if (chance(r, 0.2))
      target += pick(r, {"%", "%4", "%a"});
    else
      target.insert(1 + below(r, target.size()), bad);
    return json_request("a malformed escape",
                        to_wire(chance(r, 0.7) ? "GET" : "POST", target,
                                chance(r, 0.5) ? credentials : fields{},
                                std::string{}),
                        {400});
  }
  const std::vector<std::pair<std::string, answer_format>> near_misses{
    {"/api", answer_format::json},
    {"/api/", answer_format::json},
    {"/api/approval", answer_format::json},
    {"/api/APPROVALS", answer_format::json},
    {"/Api/approvals", answer_format::json},
    {"/HEALTH", answer_format::json},
    {"/health/x", answer_format::json},
    {"/health/..", answer_format::json},
    {"/./health", answer_format::json},
    {"//health", answer_format::json},
    {"/api/../health", answer_format::json},
    {"/api/approvals/" + pending + "/audit/x", answer_format::json},
    {"/api/approvals/" + pending + "/grants", answer_format::json},
    {"/api/approvals/%2e%2e/%2e%2e/health", answer_format::json},
    {"/api/workflows/" + run + "/x", answer_format::json},
    {"/api/workflows/" + run + "/cancel/x", answer_format::json},
    {"/api/workflows/" + run + "/cancel", answer_format::json},
    {"/api/workflows/x/y/z/w", answer_format::json},
    {"/inbox/x", answer_format::html},
    {"/inbox/approval/x?key=" + pending, answer_format::html},
    {"/inbox/../api/approvals", answer_format::html},
    {"/inbox/decide/x", answer_format::html},
    {"/login/x?token=" + std::string{admin_token}, answer_format::html},
    {"/act", answer_format::html},
    {"/act/" + link + "/x", answer_format::html},
    {"/act//" + link, answer_format::html},
  };
  if (chance(r, 0.6)) {
    const auto& [target, format] = pick(r, near_misses);
    return {
      {}, "a near miss", to_wire("GET", target, credentials), {404}, format};
  }
  std::string target;
  for (auto n = 1 + below(r, 5); n > 0; --n)
    target += "/"
              + url_encode(pick(r, {"..", ".", "", "x", "%", "api2",
                                    "approvals", "inbox", "act", "*"}));
  if (target.starts_with("/api/") || target.starts_with("/inbox")
      || target.starts_with("/act") || target == "/"
      || target.starts_with("//"))
    target = "/nothing" + target;
  return json_request("an unknown path", to_wire("GET", target, credentials),
                      {404});
}

/// Changes `link`'s payload and keeps its signature.
std::string altered_payload(rng& r, const world& w, const std::string& link) {
  const auto dot = link.find('.');
  auto payload = boost::json::parse(http::base64url_decode(link.substr(0, dot)))
                   .as_object();
  switch (below(r, 5)) {
    case 0: {
      auto key = pick(r, all_keys(w));
      payload["k"] = key == payload["k"].as_string() ? key + "x" : key;
      break;
    }
    case 1: {
      const auto action = payload["a"].as_string();
      payload["a"] = action == "grant" ? pick(r, {"reject", "cancel", "edit"})
                                       : pick(r, {"grant", "reject", "edit"});
      break;
    }
    case 2:
      payload["u"] = random_word(r);
      break;
    case 3:
      payload["e"]
        = payload["e"].as_int64() + 1
          + static_cast<std::int64_t>(log_uniform(r, 1, 1'000'000'000));
      break;
    default:
      payload["x"] = random_word(r);
  }
  return http::base64url_encode(text_of(payload)) + link.substr(dot);
}

/// A link for a pending key changed anywhere, signed with another secret,
/// or signed with ours over a payload that is no link: 403, never a
/// decision.
hostile_request forged_links(const world& w, rng& r, std::size_t) {
  const auto key = pick(r, w.pending_keys);
  const auto action = chance(r, 0.5) ? model::decision_kind::grant
                                     : model::decision_kind::cancel;
  const auto link = link_for(key, action, "forger-" + random_word(r));
  const auto dot = link.find('.');
  std::string forged;
  std::string what;
  switch (below(r, 9)) {
    case 0: {
      what = "a changed signature";
      forged = link;
      auto& c = forged[dot + 1 + below(r, forged.size() - dot - 1)];
      c = c == '0' ? '1' : '0';
      break;
    }
    case 1:
      what = "an upper-case signature";
      forged = link;
      std::transform(
        forged.begin() + static_cast<std::ptrdiff_t>(dot), forged.end(),
        forged.begin() + static_cast<std::ptrdiff_t>(dot), [](char c) {
          return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        });
      break;
    case 2:
      what = "a cut or lengthened signature";
      forged = chance(r, 0.5)
                 ? link.substr(0, dot + 1 + below(r, link.size() - dot - 1))
                 : link + pick(r, {"0", "a", ".", "..", "=", "%00"});
      break;
    case 3: {
      what = "another link's signature";
      const auto other = link_for(pick(r, all_keys(w)), action, "mallory");
      forged = link.substr(0, dot) + other.substr(other.find('.'));
      break;
    }
    case 4:
      what = "an altered payload";
      forged = altered_payload(r, w, link);
      break;
    case 5:
      what = "another secret";
      forged = link_for(key, action, "mallory", std::chrono::hours{1},
                        pick(r, {"", "link-secret-for-tests-012345678",
                                 "link-secret-for-tests-0123456789 ",
                                 "LINK-SECRET-FOR-TESTS-0123456789", "x"}));
      break;
    case 6:
      what = "no signature";
      forged = chance(r, 0.5) ? link.substr(0, dot) : link.substr(0, dot + 1);
      break;
    case 7: {
      what = "a signed payload that is no link";
      // Arrays, one byte a level, so that the link fits a request line.
      const auto deep_payload = std::string(log_uniform(r, 33, 4000), '[');
      const auto payload = pick(
        r,
        {"not json", "[]", "{}", R"({"k":5,"a":"grant","u":"x","e":1})",
         R"({"k":"approval:finance:inv_1","a":"grant","u":"x","e":"9999999999999"})",
         R"({"k":"approval:finance:inv_1","a":"grant","u":"x","e":1e300})",
         R"({"k":"approval:finance:inv_1","a":"grant","u":"x","e":18446744073709551615})",
         R"({"k":"approval:finance:inv_1","a":"approve","u":"x","e":99999999999999})",
         R"({"k":"approval:finance:inv_1","a":"grant","e":99999999999999})",
         R"({"k":"approval:finance:inv_1","a":null,"u":"x","e":99999999999999})",
         "\xff\xfe", "deep"});
      const auto encoded
        = http::base64url_encode(payload == "deep" ? deep_payload : payload);
      forged = encoded + "." + http::hmac_sha256_hex(test_link_secret, encoded);
      break;
    }
    default:
      what = "garbage";
      forged = random_bytes(r, 1 + below(r, 200));
  }
  const bool post = chance(r, 0.5);
  return html_request(what,
                      to_wire(post ? "POST" : "GET",
                              "/act/" + url_encode(forged), form_type,
                              post ? "reason=forged" : ""),
                      {403});
}

/// Genuine links past their expiry, by a millisecond or by decades: 410.
hostile_request expired_links(const world& w, rng& r, std::size_t) {
  const auto key = pick(r, w.pending_keys);
  const auto action
    = pick(r, std::vector<model::decision_kind>{model::decision_kind::grant,
                                                model::decision_kind::reject,
                                                model::decision_kind::cancel});
  std::string link;
  if (chance(r, 0.2)) {
    link = http::sign_action_link(
      {key, action, "mallory",
       model::from_millis(pick(
         r, std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                      -1, 0}))},
      test_link_secret);
  } else {
    link = link_for(key, action, "mallory",
                    -std::chrono::milliseconds{static_cast<std::int64_t>(
                      log_uniform(r, 1, 1'000'000'000'000))});
  }
  const bool post = chance(r, 0.5);
  return html_request("an expired link",
                      to_wire(post ? "POST" : "GET", "/act/" + link, form_type,
                              post ? "reason=late" : ""),
                      {410});
}

/// Links used once already, or for approvals decided since: 409, however
/// they are confirmed.
hostile_request replayed_links(const world& w, rng& r, std::size_t) {
  const bool post = chance(r, 0.7);
  return html_request(
    "a replayed link",
    to_wire(post ? "POST" : "GET", "/act/" + pick(r, w.used_links), form_type,
            post ? form_encode(
              {{"reason", random_word(r)}, {random_word(r), random_word(r)}})
                 : ""),
    {409});
}

/// Confirmations of genuine, unused links that are not well-formed: a
/// malformed form, a rejection without reason: 400.
hostile_request link_forms(const world& w, rng& r, std::size_t) {
  if (chance(r, 0.5)) {
    return html_request("a reject link confirmed without reason",
                        to_wire("POST", "/act/" + w.reject_link, form_type,
                                pick(r, {"", "reason=", "reason", "other=x",
                                         "reason=&x=y", "x=1&reason="})),
                        {400});
  }
  const auto action
    = pick(r, std::vector<model::decision_kind>{model::decision_kind::grant,
                                                model::decision_kind::reject,
                                                model::decision_kind::cancel});
  const auto link = link_for(pick(r, w.pending_keys), action, random_word(r));
  return html_request(
    "a link confirmed with a malformed form",
    to_wire("POST", "/act/" + link, form_type,
            "reason=" + random_word(r)
              + pick(r, {"&x=%zz", "%", "%4", "&%G1=1", "&x=%"})),
    {400});
}

/// Requests that would succeed with the right token, sent without one or
/// with a wrong, malformed or misplaced one: 401.
hostile_request credentials(const world& w, rng& r, std::size_t) {
  const auto pending = pick(r, w.pending_keys);
  std::string admin{admin_token};
  // The admin token with one letter in the other case.
  std::string near = admin;
  for (auto at = below(r, near.size());; at = below(r, near.size()))
    if (std::isalpha(static_cast<unsigned char>(near[at])) != 0) {
      near[at] = static_cast<char>(near[at] ^ 0x20);
      break;
    }
  const std::vector<fields> bad_api{
    {},
    bearer(random_word(r, 40)),
    bearer(near),
    bearer(admin.substr(0, below(r, admin.size()))),
    bearer(admin + "x"),
    {{"Authorization", "Bearer"}},
    {{"Authorization", "Bearer "}},
    {{"Authorization", "Basic " + admin}},
    {{"Authorization", admin}},
    {{"Authorization", "Token " + admin}},
    {{"Authorization", "Bearer  " + admin}},
    {{"Authorization", "Bearer\t" + admin}},
    {{"Authorization", "Bearer " + admin + ","}},
    {{"Authorization", "Bearer " + admin + " extra"}},
    {{"Authorization", "Bearer " + random_word(r)},
     {"Authorization", "Bearer " + admin}},
    cookie(admin),
    {{"X-Api-Key", admin}},
  };
  const std::vector<fields> bad_inbox{
    {},
    cookie(random_word(r, 40)),
    cookie(near),
    {{"Cookie", "signoff_token"}},
    {{"Cookie", "signoff_token =" + admin}},
    {{"Cookie", "signoff_token2=" + admin}},
    {{"Cookie", "xsignoff_token=" + admin}},
    {{"Cookie", "signoff_token=" + admin + "x"}},
    {{"Cookie", "signoff_token="}},
    {{"Cookie",
      "signoff_token=" + random_word(r) + "; signoff_token=" + admin}},
    with(bearer(random_word(r, 30)), cookie(admin)),
  };
  if (chance(r, 0.35)) {
    const auto creds = pick(r, bad_inbox);
    switch (below(r, 4)) {
      case 0:
        return html_request("the inbox without a valid cookie",
                            to_wire("GET", "/inbox", creds), {401});
      case 1:
        return html_request(
          "an inbox page without a valid cookie",
          to_wire("GET", "/inbox/approval?key=" + url_encode(pending), creds),
          {401});
      case 2:
        return html_request(
          "an inbox decision without a valid cookie",
          to_wire("POST", "/inbox/decide", with(creds, form_type),
                  form_encode({{"key", pending}, {"action", "approve"}})),
          {401});
      default:
        return html_request(
          "a login with a wrong token",
          to_wire("POST",
                  "/login" + pick(r, {"", "?token=" + admin, "?form=" + admin}),
                  form_type,
                  pick(r, {"", "token=", "token=" + near,
                           "token=" + url_encode(random_bytes(r, 20)),
                           "Token=" + admin, "token=" + admin + "x",
                           "x=1&token=" + admin.substr(0, 10)})),
          {401});
    }
  }
  const auto creds = pick(r, bad_api);
  const auto& run = pick(r, w.paused_runs);
  std::string method = "GET";
  std::string target;
  std::optional<std::string> body;
  switch (below(r, 8)) {
    case 0:
      target = "/api/approvals";
      break;
    case 1:
      target = "/api/approvals?prefix=approval&token=" + admin;
      break;
    case 2:
      target = approval_path(pending);
      break;
    case 3:
      target = approval_path(pending) + "/audit";
      break;
    case 4:
      target = "/api/workflows?access_token=" + admin;
      break;
    case 5:
      target = run_path(run.id);
      break;
    case 6:
      method = "POST";
      target = "/api/approvals";
      body = text_of(valid_decision(r, pending));
      break;
    default:
      method = "POST";
      target = run_path(run.id) + "/cancel";
      body = R"({"reason":"no token"})";
  }
  return json_request("the API without a valid token",
                      to_wire(method, target, with(creds, json_type), body),
                      {401});
}

/// Valid requests from tokens that may not make them: outside their key
/// prefix, or without the permission: 403.
hostile_request scope(const world& w, rng& r, std::size_t) {
  std::vector<std::string> outside;
  for (const auto& key : all_keys(w))
    if (!covered_by_finance(key))
      outside.push_back(key);
  std::vector<world::run> runs_outside;
  for (const auto& run : all_runs(w))
    if (!covered_by_finance(run))
      runs_outside.push_back(run);
  const auto any_key
    = chance(r, 0.8) ? pick(r, all_keys(w)) : hostile_key(w, r);
  const auto key_outside = pick(r, outside);
  const auto run = pick(r, all_runs(w));
  switch (below(r, 10)) {
    case 0:
      return json_request(
        "finance reads a key outside its prefix",
        to_wire("GET",
                approval_path(key_outside) + (chance(r, 0.5) ? "/audit" : ""),
                bearer(finance_token)),
        {403});
    case 1:
      return json_request("finance reads a run outside its prefix",
                          to_wire("GET", run_path(pick(r, runs_outside).id),
                                  bearer(finance_token)),
                          {403});
    case 2:
      return json_request(
        "finance approves outside its prefix",
        decision_wire(finance_token,
                      text_of(valid_decision(r, key_outside, "approve"))),
        {403});
    case 3: {
      const auto action = pick(r, {"reject", "edit", "cancel"});
      return json_request(
        "finance decides without the permission",
        decision_wire(finance_token,
                      text_of(valid_decision(r, pick(r, all_keys(w)), action))),
        {403});
    }
    case 4:
      return json_request(
        "the reader decides",
        decision_wire(reader_token, text_of(valid_decision(r, any_key))),
        {is_utf8(any_key) ? 403U : 400U});
    case 5:
      return json_request(
        "finance-ops decides",
        decision_wire(finops_token, text_of(valid_decision(r, any_key))),
        {is_utf8(any_key) ? 403U : 400U});
    case 6: {
      const auto token = pick(r, {finance_token, reader_token});
      return json_request("a token without cancel-run cancels a run",
                          to_wire("POST", run_path(run.id) + "/cancel",
                                  with(bearer(token), json_type),
                                  R"({"reason":"out of scope"})"),
                          {403});
    }
    case 7:
      return json_request(
        "finance-ops cancels a run outside its prefix",
        to_wire("POST", run_path(pick(r, runs_outside).id) + "/cancel",
                with(bearer(finops_token), json_type), ""),
        {403});
    case 8:
      return html_request(
        "finance opens an inbox page outside its prefix",
        to_wire("GET", "/inbox/approval?key=" + url_encode(key_outside),
                cookie(finance_token)),
        {403});
    default: {
      const auto token = pick(r, {finance_token, reader_token, finops_token});
      auto key = token == finance_token ? key_outside : pick(r, all_keys(w));
      return html_request(
        "an inbox decision outside the token's rights",
        form_wire(token, form_encode({{"key", key}, {"action", "approve"}})),
        {403});
    }
  }
}

/// Decisions on what is already decided or finished: 409.
hostile_request conflicts(const world& w, rng& r, std::size_t) {
  const auto key = pick(r, w.decided_keys);
  switch (below(r, 4)) {
    case 0:
    case 1:
      return json_request(
        "deciding a decided approval",
        decision_wire(admin_token, text_of(valid_decision(r, key))), {409});
    case 2: {
      auto form = valid_decision(r, key);
      fields pairs;
      for (const auto& [name, v] : form)
        pairs.emplace_back(std::string{name}, v.is_string()
                                                ? std::string{v.get_string()}
                                                : boost::json::serialize(v));
      return html_request("an inbox decision on a decided approval",
                          form_wire(admin_token, form_encode(pairs)), {409});
    }
    default:
      return json_request(
        "cancelling a finished run",
        to_wire("POST", run_path(pick(r, w.finished_runs).id) + "/cancel",
                with(bearer(admin_token), json_type),
                chance(r, 0.5) ? "" : R"({"reason":"again"})"),
        {409});
  }
}

/// Bytes that are no HTTP request: 400 (431 for a header over the limit),
/// then the connection closes.
hostile_request malformed_http(const world&, rng& r, std::size_t) {
  const std::string end = "\r\n\r\n";
  const std::string target = "/no-such-endpoint";
  std::string wire;
  std::string what;
  std::vector<unsigned> statuses{400};
  switch (below(r, 6)) {
    case 0:
      what = "random bytes";
      wire = pick(r, {"\x16\x03\x01\x02\x00\x01\x00", "\x01", " ", "/", "\xff",
                      "GET\x01"})
             + random_bytes(r, below(r, 200)) + end;
      break;
    case 1:
      what = "a broken request line";
      wire
        = pick(r, {"GET " + target + " HTTP/1.1 extra\r\n",
                   "GET " + target + " HTTP/1.x\r\n",
                   "GET " + target + " HTTP/11\r\n",
                   "GET " + target + " HTTPS/1.1\r\n",
                   "GET  " + target + " HTTP/1.1\r\n",
                   " GET " + target + " HTTP/1.1\r\n", "GET /a b HTTP/1.1\r\n",
                   "GET /a\x01 HTTP/1.1\r\n", "GET /a\x7f HTTP/1.1\r\n",
                   std::string("GET /a\0b HTTP/1.1\r\n", 19), "GET\r\n",
                   "G(T " + target + " HTTP/1.1\r\n"})
          + "Host: x" + end;
      break;
    case 2:
      what = "a broken header";
      wire = "GET " + target + " HTTP/1.1\r\n"
             + pick(r, {"X Bad: 1\r\n", "X-Bad\x01: 1\r\n", ": empty\r\n",
                        "NoColon\r\n", "X-Bad: a\x01z\r\n",
                        std::string("X-Bad: a\0z\r\n", 12), "X-Bad: a\rz\r\n",
                        "X(Bad): 1\r\n"})
             + "Host: x" + end;
      break;
    case 3:
      what = "a broken Content-Length";
      wire = "POST " + target + " HTTP/1.1\r\nHost: x\r\n"
             + pick(r, {"Content-Length: abc\r\n", "Content-Length: -1\r\n",
                        "Content-Length: 1 2\r\n", "Content-Length: +5\r\n",
                        "Content-Length: 0x10\r\n",
                        "Content-Length: 5\r\nContent-Length: 6\r\n",
                        "Content-Length: 99999999999999999999999\r\n"})
             + "\r\nhello world";
      break;
    case 4:
      what = "a broken transfer encoding";
      wire = "POST " + target + " HTTP/1.1\r\nHost: x\r\n"
             + pick(
               r, {"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                   "Transfer-Encoding: "
                   "chunked\r\n\r\nffffffffffffffffffff\r\nx\r\n0\r\n\r\n",
                   "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
                   "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
                   "Transfer-Encoding: gzip\r\n\r\nhello"});
      break;
    default:
      what = "a header over the limit";
      statuses = {431};
      if (chance(r, 0.5))
        wire = "GET " + target + " HTTP/1.1\r\nX-Big: "
               + std::string(log_uniform(r, 9000, 60000), 'b') + end;
      else
        wire = "GET /" + std::string(log_uniform(r, 9000, 60000), 'p')
               + " HTTP/1.1" + end;
  }
  return json_request(what, wire, statuses);
}

/// Inbox decisions on pending keys whose form is broken: 400.
hostile_request inbox_forms(const world& w, rng& r, std::size_t) {
  const auto key = pick(r, w.pending_keys);
  std::string form;
  std::string what;
  switch (below(r, 6)) {
    case 0:
      what = "a malformed form";
      form = form_encode({{"key", key}, {"action", "approve"}})
             + pick(r, {"&x=%zz", "&%G1=1", "%", "&x=%4"});
      break;
    case 1:
      what = "no key";
      form = pick(r, {"", "action=approve", "key=&action=approve", "key"});
      break;
    case 2:
      what = "an unknown action";
      form = form_encode(
        {{"key", key},
         {"action", pick(r, {"", "Approve", "approve ", "grant", "expire",
                             "approve-all", "delete"})}});
      break;
    case 3:
      what = "a reject without reason";
      form = form_encode({{"key", key}, {"action", "reject"}})
             + pick(r, {"", "&reason=", "&reason"});
      break;
    case 4:
      what = "an edit without value";
      form = form_encode({{"key", key}, {"action", "edit"}})
             + pick(r, {"", "&value=", "&value"});
      break;
    default:
      what = "an edit whose value is not JSON";
      form = form_encode(
        {{"key", key},
         {"action", "edit"},
         {"value", pick(r, {"{amount: 900", "'x'", "\x01", "[1,]", "NaN",
                            "Infinity", "{\"a\":1}}", "\xff", "01"})}});
  }
  return html_request(what, form_wire(admin_token, form), {400});
}

/// `text` as chunks of random sizes, ended by a last chunk and `trailers`.
std::string chunks(rng& r, std::string_view text, std::string_view trailers) {
  std::string out;
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t at = 0; at < text.size();) {
    const auto piece = std::min(text.size() - at, log_uniform(r, 1, 65536));
    std::string length;
    for (auto n = piece; n > 0; n >>= 4U)
      length.insert(length.begin(), hex[n & 0xFU]);
    out += length + "\r\n" + std::string{text.substr(at, piece)} + "\r\n";
    at += piece;
  }
  return out + "0\r\n" + std::string{trailers} + "\r\n";
}

/// A request with a chunked body and trailers: `method target`, the fields
/// given, then the chunks of `body` and `trailers`.
std::string chunked_wire(rng& r, std::string_view method,
                         std::string_view target, const fields& headers,
                         std::string_view body, std::string_view trailers) {
  return to_wire(method, target,
                 with(headers, {{"Transfer-Encoding", "chunked"}}))
         + chunks(r, body, trailers);
}

/// Chunked requests whose trailers are too large, take the body past its
/// limit, or carry the credentials the header lacks: 431, 413, 401. (A
/// trailer field of 64 KiB threw out of Beast's parser and ended the
/// process.)
hostile_request trailers(const world& w, rng& r, std::size_t max_body) {
  const auto pending = pick(r, w.pending_keys);
  const auto decision = text_of(valid_decision(r, pending, "approve"));
  const auto target = pick(r, {"/health", "/api/approvals", "/inbox/decide",
                               "/act/" + w.reject_link, "/nothing"});
  switch (below(r, 6)) {
    case 0:
      return json_request(
        "a trailer field of 64 KiB or more",
        chunked_wire(r, "POST", target, bearer(admin_token), decision,
                     pick(r, {"X", "Authorization", "X-Trailer"}) + ": "
                       + std::string(log_uniform(r, 65'534, 300'000), 'x')
                       + "\r\n"),
        {431});
    case 1: {
      std::string many;
      const auto each = log_uniform(r, 10, 8000);
      while (many.size() <= 8 * 1024)
        many += "X-" + random_word(r) + ": " + std::string(each, 't') + "\r\n";
      return json_request("trailers over the header limit",
                          chunked_wire(r, "GET", target, {}, "", many), {431});
    }
    case 2: {
      // Each fits the limit alone.
      const auto pad = std::string(log_uniform(r, 4200, 7000), 'h');
      return json_request("a header and trailers over the limit together",
                          chunked_wire(r, "GET", target, {{"X-Pad", pad}}, "",
                                       "X-Pad: " + pad + "\r\n"),
                          {431});
    }
    case 3: {
      const auto body = R"({"key":)" + boost::json::serialize(value(pending))
                        + R"(,"action":"approve","value":")"
                        + std::string(max_body - 100, 'v') + R"("})";
      return json_request(
        "a body whose trailers take it past the limit",
        chunked_wire(r, "POST", "/api/approvals",
                     with(bearer(admin_token), json_type), body,
                     "X-Pad: " + std::string(log_uniform(r, 200, 4000), 't')
                       + "\r\n"),
        {413});
    }
    case 4:
      return json_request("a token only in a trailer",
                          chunked_wire(r, "POST", "/api/approvals", json_type,
                                       decision,
                                       "Authorization: Bearer "
                                         + std::string{admin_token} + "\r\n"),
                          {401});
    default:
      return html_request(
        "a cookie only in a trailer",
        chunked_wire(r, "POST", "/inbox/decide", form_type,
                     form_field(admin_token) + "&"
                       + form_encode({{"key", pending}, {"action", "approve"}}),
                     "Cookie: signoff_token=" + std::string{admin_token}
                       + "\r\n"),
        {401});
  }
}

/// Inbox forms a page on another site could make a signed-in browser send:
/// without the form token of the caller's pages, from another origin, or
/// of another type than a form: 403 or 415.
hostile_request forgery(const world& w, rng& r, std::size_t) {
  const std::string token{pick(r, {admin_token, finance_token})};
  const auto key
    = token == admin_token ? pick(r, w.pending_keys) : "approval:finance:inv_1";
  const auto decision = form_encode({{"key", key}, {"action", "approve"}});
  const auto posted = [&](std::string_view target, const fields& headers,
                          const std::string& body) {
    return to_wire("POST", target, headers, body);
  };
  const auto self = "http://127.0.0.1";
  switch (below(r, 5)) {
    case 0: {
      const std::string other{token == admin_token ? finance_token
                                                   : admin_token};
      const auto forged = pick(
        r, {std::string{}, "form=", "form=" + form_token_for(other),
            "form=" + form_token_for(token).substr(0, 63),
            "form=" + form_token_for(token) + "0", "form=" + form_token_for(""),
            "Form=" + form_token_for(token)});
      return html_request(
        "a decision without its page's form token",
        posted(pick(r, {"/inbox/decide", "/logout"}),
               with(cookie(token), form_type),
               forged + (forged.empty() ? "" : "&") + decision),
        {403});
    }
    case 1:
      return html_request(
        "a decision from another site's page",
        posted(pick(r, {"/inbox/decide", "/logout", "/login"}),
               with(with(cookie(token), form_type),
                    pick(r,
                         std::vector<fields>{
                           {{"Origin", "http://evil.example"}},
                           {{"Origin", "null"}},
                           {{"Origin", std::string{self} + ":1"}},
                           {{"Referer", "http://evil.example/x"}},
                           {{"Origin", "http://127.0.0.1.evil.example"}}})),
               form_field(token) + "&" + decision + "&token=" + token),
        {403});
    case 2:
      return html_request(
        "a decision that is not a form",
        posted(pick(r, {"/inbox/decide", "/logout", "/login"}),
               with(cookie(token),
                    pick(r,
                         std::vector<fields>{
                           {{"Content-Type", "text/plain"}},
                           {{"Content-Type", "multipart/form-data; b=x"}},
                           {{"Content-Type", "application/json"}},
                           {{"Content-Type", "application/x-www-form"}},
                           {}})),
               form_field(token) + "&" + decision + "&token=" + token),
        {415});
    case 3:
      return html_request("a form token in the URL instead",
                          posted("/inbox/decide?" + form_field(token),
                                 with(cookie(token), form_type), decision),
                          {403});
    default:
      return html_request(
        "another token's form with this cookie",
        posted("/inbox/decide", with(cookie(token), form_type),
               form_field(token == admin_token ? reader_token : admin_token)
                 + "&" + decision),
        {403});
  }
}

/// Requests HTTP/1.1 refuses (no Host, two, or one that is no host) and
/// targets in forms the server does not serve: 400; absolute-form targets
/// reach the endpoint they name; a body announced past the limit with
/// Expect: 100-continue is refused at once: 413.
hostile_request protocol(const world& w, rng& r, std::size_t max_body) {
  const auto pending = pick(r, w.pending_keys);
  const auto auth
    = "Authorization: Bearer " + std::string{admin_token} + "\r\n";
  switch (below(r, 5)) {
    case 0:
      return json_request(
        "HTTP/1.1 without one good Host",
        "GET " + approval_path(pending) + " HTTP/1.1\r\n" + auth
          + pick(r, {"", "Host: a\r\nHost: b\r\n",
                     "Host: 127.0.0.1\r\nHost: 127.0.0.1\r\n",
                     "Host: me@127.0.0.1\r\n", "Host: a b\r\n",
                     "Host: [::1\r\n", "Host: a:port\r\n"})
          + "Connection: close\r\n\r\n",
        {400});
    case 1:
      return json_request(
        "a target in a form not served",
        "GET "
          + pick(r, {"*", "127.0.0.1:80", "ftp://127.0.0.1/health",
                     "http:///health", "http://me@127.0.0.1/health", "health",
                     "http://127.0.0.1/health#part"})
          + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
          + "Connection: close\r\n\r\n",
        {400});
    case 2:
      return json_request(
        "an absolute-form target for nothing",
        "GET http://" + pick(r, {"127.0.0.1", "localhost:1", "example.com"})
          + pick(r, {"/nothing", "/api/approvals/x/y/z", "/api/nothing"})
          + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
          + "Connection: close\r\n\r\n",
        {404});
    case 3: {
      const auto body = text_of(valid_decision(r, pending));
      return json_request(
        "an absolute-form decision without a token",
        "POST http://127.0.0.1/api/approvals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: "
          + std::to_string(body.size()) + "\r\n\r\n" + body,
        {401});
    }
    default:
      return json_request(
        "Expect: 100-continue for a body over the limit",
        "POST /api/approvals HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
          + "Content-Type: application/json\r\nExpect: 100-continue\r\n"
            "Connection: close\r\nContent-Length: "
          + std::to_string(max_body + 1 + below(r, 1'000'000)) + "\r\n\r\n",
        {413});
  }
}

/// A request of a category drawn by weight.
hostile_request draw(const world& w, rng& r, std::size_t max_body,
                     bool without_pipelined);

/// A request from another category, kept alive and followed on the same
/// connection by a second one: the first answer is checked, the second
/// request only by what it must not change.
hostile_request pipelined(const world& w, rng& r, std::size_t max_body) {
  auto first = draw(w, r, max_body, true);
  const auto second = draw(w, r, max_body, true);
  const std::string close = "Connection: close\r\n";
  if (const auto at = first.wire.find(close); at != std::string::npos)
    first.wire.erase(at, close.size());
  first.wire += second.wire;
  first.what = first.category + " (" + first.what + ") then " + second.category
               + " (" + second.what + ")";
  return first;
}

struct category {
  std::string_view name;
  generator make;
  unsigned weight;
};

const std::vector<category>& table() {
  static const std::vector<category> all{
    {"garbage_json", garbage_json, 8},
    {"wrong_types", wrong_types, 10},
    {"deep_nesting", deep_nesting, 4},
    {"oversized", oversized, 3},
    {"hostile_keys", hostile_keys, 12},
    {"literal_reads", literal_reads, 6},
    {"methods", methods, 6},
    {"paths", paths, 6},
    {"forged_links", forged_links, 8},
    {"expired_links", expired_links, 3},
    {"replayed_links", replayed_links, 4},
    {"link_forms", link_forms, 4},
    {"credentials", credentials, 10},
    {"scope", scope, 10},
    {"conflicts", conflicts, 6},
    {"malformed_http", malformed_http, 6},
    {"inbox_forms", inbox_forms, 6},
    {"trailers", trailers, 5},
    {"forgery", forgery, 5},
    {"protocol", protocol, 5},
    {"pipelined", pipelined, 4},
  };
  return all;
}

/// `text` percent-decoded (escapes that are no escapes left as they are:
/// those get their own 400 anyway).
std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()
        && std::isxdigit(static_cast<unsigned char>(text[i + 1])) != 0
        && std::isxdigit(static_cast<unsigned char>(text[i + 2])) != 0) {
      out += static_cast<char>(
        std::stoi(std::string{text.substr(i + 1, 2)}, nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

/// The body of the request `wire` as the server reads it: de-chunked when
/// it is chunked (a chunk boundary may split a percent escape).
std::string body_of(std::string_view wire) {
  const auto end = wire.find("\r\n\r\n");
  if (end == std::string_view::npos)
    return {};
  std::string header{wire.substr(0, end)};
  std::transform(header.begin(), header.end(), header.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  auto rest = wire.substr(end + 4);
  if (header.find("\r\ntransfer-encoding: chunked") == std::string::npos)
    return std::string{rest};
  std::string body;
  while (!rest.empty()) {
    const auto line = rest.find("\r\n");
    const auto size = static_cast<std::size_t>(
      std::stoull(std::string{rest.substr(0, line)}, nullptr, 16));
    if (size == 0 || line == std::string_view::npos)
      break;
    body += rest.substr(line + 2, size);
    rest.remove_prefix(std::min(rest.size(), line + 2 + size + 2));
  }
  return body;
}

/// Text that is not UTF-8 can name no key (keys are JSON strings), so the
/// server refuses it as malformed before any handler, whatever else the
/// request would have earned: 400, as JSON for a URL, in the page's format
/// for a form. A body over the limit is refused before it is read (413).
void refuse_if_no_utf8(hostile_request& req) {
  if (req.statuses == std::vector<unsigned>{413})
    return;
  const std::string_view wire = req.wire;
  const auto start = wire.find(' ');
  const auto end = wire.find(' ', start + 1);
  if (start != std::string_view::npos && end != std::string_view::npos
      && !is_utf8(percent_decoded(wire.substr(start + 1, end - start - 1)))) {
    req.statuses = {400};
    req.format = answer_format::json;
    req.listing.reset();
    return;
  }
  if (wire.find("application/x-www-form-urlencoded") != std::string_view::npos
      && !is_utf8(percent_decoded(body_of(wire))))
    req.statuses = {400};
}

/// A request of category `c`.
hostile_request make(const world& w, rng& r, std::size_t max_body,
                     const category& c) {
  auto out = c.make(w, r, max_body);
  out.category = c.name;
  // A pipelined pair's parts were each drawn (and adjusted) already.
  if (c.make != pipelined)
    refuse_if_no_utf8(out);
  return out;
}

hostile_request draw(const world& w, rng& r, std::size_t max_body,
                     bool without_pipelined) {
  unsigned total = 0;
  for (const auto& c : table())
    if (!without_pipelined || c.make != pipelined)
      total += c.weight;
  auto at = static_cast<unsigned>(below(r, total));
  for (const auto& c : table()) {
    if (without_pipelined && c.make == pipelined)
      continue;
    if (at < c.weight)
      return make(w, r, max_body, c);
    at -= c.weight;
  }
  return {};
}

} // namespace

const std::vector<std::string_view>& categories() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& c : table())
      out.push_back(c.name);
    return out;
  }();
  return names;
}

hostile_request make_request(const world& w, std::uint64_t seed,
                             std::uint64_t index, std::size_t max_body) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed),
                    static_cast<std::uint32_t>(seed >> 32U),
                    static_cast<std::uint32_t>(index),
                    static_cast<std::uint32_t>(index >> 32U)};
  rng r{seq};
  // The first requests go through the categories in turn, so that a short
  // run tries every one, as a long run does.
  const auto& all = table();
  if (index < every_category_first * all.size())
    return make(w, r, max_body, all[index % all.size()]);
  return draw(w, r, max_body, false);
}

std::vector<hostile_request> regression_requests(const world& w,
                                                 std::size_t max_body) {
  const auto pending = w.pending_keys.front();
  const auto grant_link
    = link_for(pending, model::decision_kind::grant, "regression");
  const auto approve = decision_wire(
    admin_token,
    text_of(boost::json::object{{"key", pending}, {"action", "approve"}}));
  const auto both_cookies = with(bearer(admin_token), cookie(admin_token));
  std::vector<hostile_request> out{
    // Bytes that were no HTTP request got the connection closed, no answer.
    json_request("a version that is no version",
                 "GET /health HTTP/1.x\r\nHost: x\r\n\r\n", {400}),
    json_request("a Content-Length that is no number",
                 "POST /api/approvals HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: abc\r\n\r\n{}",
                 {400}),
    json_request("a header over the limit",
                 "GET /health HTTP/1.1\r\nX-Big: " + std::string(9000, 'b')
                   + "\r\n\r\n",
                 {431}),
    // Transfer-Encoding: gzip was read as a request without body, so its
    // body, here an approval, was served as the next request on the same
    // connection.
    json_request("a body smuggled behind Transfer-Encoding: gzip",
                 "POST /no-such-endpoint HTTP/1.1\r\nHost: x\r\n"
                 "Transfer-Encoding: gzip\r\n\r\n"
                   + approve,
                 {400}),
    // Every method but POST was served as GET by the pages, links, the
    // health check and the redirect.
    html_request("DELETE on the inbox",
                 to_wire("DELETE", "/inbox", both_cookies), {404}),
    html_request("PUT on an inbox page",
                 to_wire("PUT", "/inbox/approval?key=" + url_encode(pending),
                         both_cookies),
                 {404}),
    html_request("PUT on the login",
                 to_wire("PUT", "/login?token=" + std::string{admin_token}, {}),
                 {404}),
    html_request(
      "a login below /login",
      to_wire("GET", "/login/x?token=" + std::string{admin_token}, {}), {404}),
    html_request("FOO on an unused link",
                 to_wire("FOO", "/act/" + grant_link, form_type, ""), {404}),
    json_request("POST on the health check", to_wire("POST", "/health", {}, ""),
                 {404}),
    json_request("TRACE on the root", to_wire("TRACE", "/", {}), {404}),
    // A link confirmed with a malformed form decided all the same.
    html_request("a link confirmed with a malformed form",
                 to_wire("POST", "/act/" + grant_link, form_type, "x=%zz"),
                 {400}),
    // Keys that are not UTF-8 were echoed into JSON that was not UTF-8;
    // such URLs are now refused as malformed.
    json_request(
      "a key that is not UTF-8",
      to_wire("GET", approval_path(pending + "\xff"), bearer(admin_token)),
      {400}),
    json_request("a run id that is not UTF-8",
                 to_wire("GET", run_path("run-\xc0\x80"), bearer(admin_token)),
                 {400}),
  };
  // A trailer field of 64 KiB threw out of Beast's parser: the process
  // ended (std::length_error).
  out.push_back(json_request("a trailer field of 65,534 bytes",
                             "GET /health HTTP/1.1\r\nHost: x\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n0\r\nX: "
                               + std::string(65'534, 'x') + "\r\n\r\n",
                             {431}));
  // The oracle read a chunked form as it is on the wire: a percent escape
  // that a chunk boundary splits looked like text that is not UTF-8.
  const auto key = std::find_if(
    w.pending_keys.begin(), w.pending_keys.end(), [](const auto& k) {
      return url_encode(k).find("%C3") != std::string::npos;
    });
  auto form = form_field(admin_token) + "&"
              + form_encode({{"key", *key}, {"action", "approve"}}) + "&pad=";
  const auto split = form.find("%C3") + 2;
  form += std::string(max_body, 'x');
  std::string chunked
    = to_wire("POST", "/inbox/decide",
              with(cookie(admin_token),
                   with(form_type, {{"Transfer-Encoding", "chunked"}})));
  for (const auto& part : {form.substr(0, split), form.substr(split)}) {
    std::ostringstream size;
    size << std::hex << part.size();
    chunked += size.str() + "\r\n" + part + "\r\n";
  }
  out.push_back(json_request(
    "a chunked form over the limit, an escape split between chunks",
    chunked + "0\r\n\r\n", {413}));
  for (auto& q : out)
    q.category = "regressions";
  return out;
}

bool is_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      code = c & 0x1FU;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      code = c & 0x0FU;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      code = c & 0x07U;
    } else {
      return false;
    }
    if (i + extra >= bytes.size())
      return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(bytes[i + k]);
      if ((cc & 0xC0U) != 0x80U)
        return false;
      code = (code << 6U) | (cc & 0x3FU);
    }
    const std::array<std::uint32_t, 4> least{0, 0x80, 0x800, 0x10000};
    if (code < least[extra] || code > 0x10FFFF
        || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

} // namespace signoff::test::hostile
