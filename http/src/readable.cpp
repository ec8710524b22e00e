#include "readable.hpp"

#include <array>
#include <vector>

#include "signoff/model/json_text.hpp"
#include "text.hpp"

namespace signoff::http::detail {

namespace {

using namespace std::chrono;

constexpr minutes westmost = -hours{12};
constexpr minutes eastmost = hours{14};

std::string two_digits(long n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}

std::string offset_text(minutes offset) {
  const auto magnitude = abs(offset);
  return std::string{offset < minutes{0} ? "-" : "+"}
         + two_digits(duration_cast<hours>(magnitude).count()) + ":"
         + two_digits((magnitude % hours{1}).count());
}

/// Calendar fields of `at` in `zone`, or nothing outside years 1 to 9999
/// (a date people would not read, or one the calendar types cannot hold).
struct civil_time {
  year_month_day date;
  hh_mm_ss<minutes> clock;
};

std::optional<civil_time> civil(model::time_point at, minutes offset) {
  constexpr auto first = sys_days{year{1} / January / 1};
  constexpr auto last = sys_days{year{9999} / December / 31};
  const auto local = floor<minutes>(at) + offset;
  if (local < first || local >= last + days{1})
    return std::nullopt;
  const auto day = floor<days>(local);
  return civil_time{year_month_day{day}, hh_mm_ss<minutes>{local - day}};
}

constexpr std::array<const char*, 12> month_names{"Jan", "Feb", "Mar", "Apr",
                                                  "May", "Jun", "Jul", "Aug",
                                                  "Sep", "Oct", "Nov", "Dec"};

} // namespace

std::string reader_zone::name() const {
  return offset == minutes{0} ? "UTC" : "UTC" + offset_text(offset);
}

std::optional<reader_zone> parse_zone(std::string_view text) {
  if (text == "UTC")
    return reader_zone{};
  // [+-]HH:MM, nothing more.
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':')
    return std::nullopt;
  for (std::size_t i : {1U, 2U, 4U, 5U})
    if (text[i] < '0' || text[i] > '9')
      return std::nullopt;
  const minutes magnitude{((text[1] - '0') * 10 + (text[2] - '0')) * 60
                          + (text[4] - '0') * 10 + (text[5] - '0')};
  const auto offset = text[0] == '-' ? -magnitude : magnitude;
  if (offset < westmost || offset > eastmost || offset % minutes{15} != 0min)
    return std::nullopt;
  return reader_zone{offset};
}

const std::vector<std::string>& zone_choices() {
  static const auto choices = [] {
    std::vector<std::string> out;
    for (auto m = westmost; m <= eastmost; m += minutes{15})
      // Zones in use: whole and half hours, and Nepal's, Eucla's and the
      // Chatham Islands' quarter hours.
      if (m % minutes{30} == 0min || m == minutes{345} || m == minutes{525}
          || m == minutes{765})
        out.push_back(m == 0min ? "UTC" : offset_text(m));
    return out;
  }();
  return choices;
}

std::string relative_time(model::time_point at, model::time_point now) {
  const auto gap = at - now;
  auto left = abs(duration_cast<seconds>(gap));
  if (left < minutes{1})
    return "just now";
  struct unit {
    seconds size;
    const char* name;
  };
  constexpr std::array<unit, 3> units{
    {{days{1}, "d"}, {hours{1}, "h"}, {minutes{1}, "min"}}};
  // The two largest units from the first that counts: "2 d 3 h", "4 h".
  std::string text;
  int shown = 0;
  for (const auto& u : units) {
    const auto count = left / u.size;
    if (shown == 0 && count == 0)
      continue;
    if (count > 0)
      text += (text.empty() ? "" : " ") + std::to_string(count) + " " + u.name;
    left -= count * u.size;
    if (++shown == 2)
      break;
  }
  return gap > model::duration::zero() ? "in " + text : text + " ago";
}

std::string time_html(model::time_point at, model::time_point now,
                      const reader_zone& zone) {
  const auto utc = civil(at, minutes{0});
  const auto local = civil(at, zone.offset);
  if (!utc || !local)
    return "<time>" + std::to_string(model::to_millis(at)) + " ms</time>";
  const auto iso = std::to_string(static_cast<int>(utc->date.year())) + "-"
                   + two_digits(static_cast<unsigned>(utc->date.month())) + "-"
                   + two_digits(static_cast<unsigned>(utc->date.day())) + "T"
                   + two_digits(utc->clock.hours().count()) + ":"
                   + two_digits(utc->clock.minutes().count()) + "Z";
  const auto shown
    = std::to_string(static_cast<unsigned>(local->date.day())) + " "
      + month_names.at(static_cast<unsigned>(local->date.month()) - 1) + " "
      + std::to_string(static_cast<int>(local->date.year())) + ", "
      + two_digits(local->clock.hours().count()) + ":"
      + two_digits(local->clock.minutes().count()) + " " + zone.name();
  return "<time datetime=\"" + iso + "\" title=\"" + iso + "\">" + shown
         + "</time> <small>(" + relative_time(at, now) + ")</small>";
}

std::string fields_html(const boost::json::value& v) {
  const auto* object = v.if_object();
  if (object == nullptr || object->empty())
    return "<code>" + html_escape(model::write_json(v)) + "</code>";
  std::string out = "<dl class=\"fields\">";
  for (const auto& [name, field] : *object) {
    out += "<dt>" + html_escape(name) + "</dt><dd>";
    if (const auto* text = field.if_string())
      out += html_escape(*text);
    else if (field.is_number() || field.is_bool() || field.is_null())
      out += html_escape(model::write_json(field));
    else
      out += "<code>" + html_escape(model::write_json(field)) + "</code>";
    out += "</dd>";
  }
  return out + "</dl>";
}

} // namespace signoff::http::detail
