#include "metrics_endpoint.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

#include "handlers.hpp"

namespace signoff::http::detail {

namespace {

using metric_type = exposition::metric_type;

std::string_view type_name(metric_type type) {
  switch (type) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      break;
  }
  return "histogram";
}

/// A sample value as the format writes it: the shortest text that reads
/// back as the same double (plain decimals where they stay short, as
/// bucket bounds read best: 0.0001, not 1e-04), or NaN, +Inf, -Inf.
std::string number(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  const auto magnitude = std::abs(value);
  const bool plain = value == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  std::array<char, 64> buffer{};
  auto [end, ec] = plain ? std::to_chars(buffer.begin(), buffer.end(), value,
                                         std::chars_format::fixed)
                         : std::to_chars(buffer.begin(), buffer.end(), value);
  return {buffer.data(), end};
}

/// `text` with `\` and newlines escaped, and `"` too in a label value.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
}

/// Seconds since the epoch of `t`, to the millisecond.
double unix_seconds(model::time_point t) {
  return static_cast<double>(model::to_millis(t)) / 1000.0;
}

std::string_view outcome_of(const decision_count& d) {
  if (!d.refused_with.empty())
    return "refused";
  return d.applied ? "applied" : "repeat";
}

void decisions(exposition& out, std::vector<decision_count> counts) {
  out.family("signoff_decisions_total", metric_type::counter,
             "Decisions the registry answered since start, by kind and "
             "outcome (applied, repeat, refused); refused ones name their "
             "error type.");
  // Kept in a fixed order, so that scrapes read alike.
  std::sort(counts.begin(), counts.end(),
            [](const decision_count& a, const decision_count& b) {
              return std::tuple{to_string(a.kind), outcome_of(a),
                                std::string_view{a.refused_with}}
                     < std::tuple{to_string(b.kind), outcome_of(b),
                                  std::string_view{b.refused_with}};
            });
  for (const auto& d : counts) {
    exposition::labels with{{"kind", to_string(d.kind)},
                            {"outcome", outcome_of(d)}};
    if (!d.refused_with.empty())
      with.emplace_back("error", d.refused_with);
    out.sample("signoff_decisions_total", with, d.count);
  }
}

/// A gauge the store counts, left out when it could not.
void store_gauge(exposition& out, std::string_view name, std::string_view help,
                 const std::optional<std::uint64_t>& value) {
  if (!value)
    return;
  out.family(name, metric_type::gauge, help);
  out.sample(name, {}, *value);
}

} // namespace

void response_counts::count(unsigned status) noexcept {
  if (status < 100 || status > 599)
    return;
  by_class_[status / 100 - 1].fetch_add(1, std::memory_order_relaxed);
}

std::array<std::uint64_t, 5> response_counts::read() const noexcept {
  std::array<std::uint64_t, 5> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = by_class_[i].load(std::memory_order_relaxed);
  return out;
}

void exposition::family(std::string_view name, metric_type type,
                        std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void exposition::sample_line(std::string_view name, const labels& with,
                             std::string_view extra_label,
                             std::string_view extra_value,
                             std::string_view value) {
  out_ += name;
  if (!with.empty() || !extra_label.empty()) {
    out_ += '{';
    bool first = true;
    auto label = [&](std::string_view label_name, std::string_view text) {
      if (!first)
        out_ += ',';
      first = false;
      out_ += label_name;
      out_ += "=\"";
      append_escaped(out_, text, true);
      out_ += '"';
    };
    for (const auto& [label_name, text] : with)
      label(label_name, text);
    if (!extra_label.empty())
      label(extra_label, extra_value);
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void exposition::sample(std::string_view name, const labels& with,
                        std::uint64_t value) {
  sample_line(name, with, {}, {}, std::to_string(value));
}

void exposition::sample(std::string_view name, const labels& with,
                        double value) {
  sample_line(name, with, {}, {}, number(value));
}

void exposition::histogram(std::string_view name, const labels& with,
                           const histogram_counts& h) {
  const std::string bucket = std::string{name} + "_bucket";
  for (std::size_t i = 0; i < h.bounds.size() && i < h.cumulative.size(); ++i)
    sample_line(bucket, with, "le", number(h.bounds[i]),
                std::to_string(h.cumulative[i]));
  sample_line(bucket, with, "le", "+Inf", std::to_string(h.count));
  sample_line(std::string{name} + "_sum", with, {}, {}, number(h.sum));
  sample_line(std::string{name} + "_count", with, {}, {},
              std::to_string(h.count));
}

std::string render_metrics(const orchestrator_metrics& m,
                           const std::array<std::uint64_t, 5>& responses,
                           const std::vector<gauge_family>& extra) {
  exposition out;
  out.family("signoff_start_time_seconds", metric_type::gauge,
             "When the orchestrator started, in seconds since the Unix "
             "epoch.");
  out.sample("signoff_start_time_seconds", {}, unix_seconds(m.started_at));
  store_gauge(out, "signoff_approvals_pending",
              "Approvals pending in the store, those past their deadline "
              "and not yet expired included.",
              m.pending_approvals);
  out.family("signoff_runs_resident", metric_type::gauge,
             "Run actors in memory, parked or working.");
  out.sample("signoff_runs_resident", {}, m.resident_runs);
  store_gauge(out, "signoff_runs_paused", "Runs paused in the store.",
              m.paused_runs);
  store_gauge(out, "signoff_runs_passivated",
              "Paused runs not in memory: passivated, or from before a "
              "restart.",
              m.passivated_runs);
  out.family("signoff_runs_finished_total", metric_type::counter,
             "Runs this orchestrator ended since start, by status.");
  out.sample("signoff_runs_finished_total", {{"status", "completed"}},
             m.runs_completed);
  out.sample("signoff_runs_finished_total", {{"status", "failed"}},
             m.runs_failed);
  out.sample("signoff_runs_finished_total", {{"status", "cancelled"}},
             m.runs_cancelled);
  decisions(out, m.decisions);
  out.family("signoff_wakes_total", metric_type::counter,
             "Wakes of runs waiting on a decided approval since start, by "
             "how the run took them (resumed, stale, failed).");
  out.sample("signoff_wakes_total", {{"outcome", "resumed"}}, m.wakes_resumed);
  out.sample("signoff_wakes_total", {{"outcome", "stale"}}, m.wakes_stale);
  out.sample("signoff_wakes_total", {{"outcome", "failed"}}, m.wakes_failed);
  if (m.commit_seconds) {
    out.family("signoff_commit_duration_seconds", metric_type::histogram,
               "How long each group commit of the journal took, durable "
               "sync included.");
    out.histogram("signoff_commit_duration_seconds", {}, *m.commit_seconds);
  }
  if (m.commit_batches) {
    out.family("signoff_commit_batches", metric_type::histogram,
               "Write batches (one owner's change each) per group commit.");
    out.histogram("signoff_commit_batches", {}, *m.commit_batches);
  }
  store_gauge(out, "signoff_outbox_events",
              "Notifications in the outbox not delivered yet.",
              m.outbox_backlog);
  out.family("signoff_http_responses_total", metric_type::counter,
             "Responses the HTTP server wrote since start, by status "
             "class.");
  static constexpr std::array<std::string_view, 5> classes{"1xx", "2xx", "3xx",
                                                           "4xx", "5xx"};
  for (std::size_t i = 0; i < classes.size(); ++i)
    out.sample("signoff_http_responses_total", {{"class", classes[i]}},
               responses[i]);
  for (const auto& gauge : extra) {
    out.family(gauge.name, metric_type::gauge, gauge.help);
    for (const auto& sample : gauge.samples) {
      exposition::labels with;
      for (const auto& [name, value] : sample.labels)
        with.emplace_back(name, value);
      out.sample(gauge.name, with, sample.value);
    }
  }
  return out.text();
}

answer handle_metrics(const handler_context& ctx, const parsed_request& req,
                      const response_counts& served) {
  auto who = authenticate(ctx, req.raw, false);
  if (!who)
    return unauthenticated(req.raw);
  // The figures span every key: a token limited to some keys may not see
  // how many approvals wait under the others.
  if (!who->may_everywhere(permission::read))
    return denied(req.raw, "only a token that may read every key (the read "
                           "permission and no key prefix) may read metrics");
  response res{beast_http::status::ok, req.raw.version()};
  res.set(beast_http::field::content_type,
          "text/plain; version=0.0.4; charset=utf-8");
  res.set(beast_http::field::cache_control, "no-store");
  res.keep_alive(req.raw.keep_alive());
  res.body()
    = render_metrics(ctx.target.metrics(), served.read(),
                     ctx.options.extra_gauges ? ctx.options.extra_gauges()
                                              : std::vector<gauge_family>{});
  res.prepare_payload();
  return res;
}

} // namespace signoff::http::detail
