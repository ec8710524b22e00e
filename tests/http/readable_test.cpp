// What the inbox shows people: dates in the reader's zone, relative times,
// fields instead of raw JSON.
#include "readable.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace d = signoff::http::detail;
namespace model = signoff::model;
using namespace std::chrono_literals;

namespace {

// 2026-12-06 19:45:30.250 UTC.
const auto t0 = model::from_millis(1'796'586'330'250);

} // namespace

BOOST_AUTO_TEST_SUITE(readable)

BOOST_AUTO_TEST_CASE(zones_are_utc_or_quarter_hour_offsets_people_use) {
  BOOST_TEST(d::parse_zone("UTC")->offset.count() == 0);
  BOOST_TEST(d::parse_zone("+01:00")->offset.count() == 60);
  BOOST_TEST(d::parse_zone("-05:30")->offset.count() == -330);
  BOOST_TEST(d::parse_zone("+14:00")->offset.count() == 14 * 60);
  BOOST_TEST(d::parse_zone("-12:00")->offset.count() == -12 * 60);
  for (const char* refused :
       {"", "utc", "+1:00", "+01:0", "+01-00", "01:00", "+14:15", "-12:15",
        "+01:10", "+0a:00", "+01:00 ", "+99:00"})
    BOOST_TEST(!d::parse_zone(refused), refused);
  BOOST_TEST(d::parse_zone("-05:30")->name() == "UTC-05:30");
  BOOST_TEST(d::reader_zone{}.name() == "UTC");
  // Every choice the form offers reads back, in order, UTC among them.
  const auto& choices = d::zone_choices();
  BOOST_TEST(choices.front() == "-12:00");
  BOOST_TEST(choices.back() == "+14:00");
  BOOST_TEST(std::count(choices.begin(), choices.end(), "UTC") == 1);
  BOOST_TEST(std::count(choices.begin(), choices.end(), "+05:45") == 1);
  for (std::size_t i = 0; i < choices.size(); ++i) {
    BOOST_TEST_REQUIRE(d::parse_zone(choices[i]).has_value(), choices[i]);
    if (i > 0)
      BOOST_TEST(d::parse_zone(choices[i - 1])->offset
                 < d::parse_zone(choices[i])->offset);
  }
}

BOOST_AUTO_TEST_CASE(relative_times_name_the_two_largest_units) {
  BOOST_TEST(d::relative_time(t0, t0) == "just now");
  BOOST_TEST(d::relative_time(t0 + 59s, t0) == "just now");
  BOOST_TEST(d::relative_time(t0 + 90s, t0) == "in 1 min");
  BOOST_TEST(d::relative_time(t0 - 5min, t0) == "5 min ago");
  BOOST_TEST(d::relative_time(t0 + 4h + 7min + 3s, t0) == "in 4 h 7 min");
  BOOST_TEST(d::relative_time(t0 - (26h + 30min), t0) == "1 d 2 h ago");
  BOOST_TEST(d::relative_time(t0 + 72h - 1ms, t0) == "in 2 d 23 h");
  BOOST_TEST(d::relative_time(t0 + 72h, t0) == "in 3 d");
  BOOST_TEST(d::relative_time(t0 + 72h + 5min, t0) == "in 3 d");
}

BOOST_AUTO_TEST_CASE(times_are_dates_in_the_readers_zone) {
  BOOST_TEST(d::time_html(t0 - 2h, t0, {})
             == "<time datetime=\"2026-12-06T17:45Z\" "
                "title=\"2026-12-06T17:45Z\">6 Dec 2026, 17:45 UTC</time> "
                "<small>(2 h ago)</small>");
  // East of UTC past midnight: the next day.
  BOOST_TEST(d::time_html(t0 + 3h, t0, *d::parse_zone("+05:45"))
             == "<time datetime=\"2026-12-06T22:45Z\" "
                "title=\"2026-12-06T22:45Z\">7 Dec 2026, 04:30 "
                "UTC+05:45</time> <small>(in 3 h)</small>");
  // West of UTC before midnight: the day before, across a year.
  const auto new_year = model::from_millis(1'798'761'600'000); // 2027-01-01
  BOOST_TEST(d::time_html(new_year, new_year, *d::parse_zone("-05:00"))
             == "<time datetime=\"2027-01-01T00:00Z\" "
                "title=\"2027-01-01T00:00Z\">31 Dec 2026, 19:00 "
                "UTC-05:00</time> <small>(just now)</small>");
  // A time no calendar of ours holds is shown as it is stored.
  const auto far = model::from_millis(std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(d::time_html(far, t0, {})
             == "<time>9223372036854775807 ms</time>");
}

BOOST_AUTO_TEST_CASE(objects_show_as_fields_and_the_rest_as_json) {
  const boost::json::value metadata{{"customer", "Wayne <Enterprises>"},
                                    {"total", 15000.0},
                                    {"rush", true},
                                    {"lines", {1, 2}}};
  BOOST_TEST(d::fields_html(metadata)
             == "<dl class=\"fields\"><dt>customer</dt><dd>Wayne "
                "&lt;Enterprises&gt;</dd><dt>total</dt><dd>15000</dd>"
                "<dt>rush</dt><dd>true</dd><dt>lines</dt><dd><code>[1,2]"
                "</code></dd></dl>");
  BOOST_TEST(d::fields_html(nullptr) == "<code>null</code>");
  BOOST_TEST(d::fields_html(boost::json::object{}) == "<code>{}</code>");
  BOOST_TEST(d::fields_html(boost::json::value("<b>"))
             == "<code>&quot;&lt;b&gt;&quot;</code>");
}

BOOST_AUTO_TEST_SUITE_END()
