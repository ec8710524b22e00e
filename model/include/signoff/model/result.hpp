#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "signoff/model/error.hpp"

namespace signoff::model {

/// Wraps a success value until it becomes a `result`. Made by `ok()`.
template <class T>
struct ok_value {
  T value;
};

/// Wraps an error until it becomes a `result`. Made by `err()`.
template <class E>
struct err_value {
  E error;
};

/// Marks a success value: `return ok(order);`.
template <class T>
[[nodiscard]] ok_value<std::decay_t<T>> ok(T&& value) {
  return {std::forward<T>(value)};
}

/// Marks an error: `return err(make_error("OUT_OF_STOCK", "..."));`.
template <class E>
[[nodiscard]] err_value<std::decay_t<E>> err(E&& error) {
  return {std::forward<E>(error)};
}

/// Either a value of type `T` or an error of type `E`: the reference's
/// `Result`. Default-constructs to `ok(T{})` (actor messages need a default).
template <class T, class E = error>
class result {
public:
  using value_type = T;
  using error_type = E;

  result() = default;

  template <class U>
  requires std::is_convertible_v<U, T>
  result(ok_value<U> x) // NOLINT(google-explicit-constructor)
      : data_(std::in_place_index<0>, std::move(x.value)) {}

  template <class U>
  requires std::is_convertible_v<U, E>
  result(err_value<U> x) // NOLINT(google-explicit-constructor)
      : data_(std::in_place_index<1>, std::move(x.error)) {}

  /// A plain value converts to success, so `return order;` works.
  template <class U>
  requires(std::is_convertible_v<U, T> && !std::is_convertible_v<U, E>)
    result(U&& x) // NOLINT(google-explicit-constructor)
      : data_(std::in_place_index<0>, std::forward<U>(x)) {}

  /// A plain error converts to failure, so `return make_error(...);` works.
  result(E x) // NOLINT(google-explicit-constructor)
    requires(!std::is_convertible_v<E, T>)
      : data_(std::in_place_index<1>, std::move(x)) {}

  [[nodiscard]] bool is_ok() const noexcept {
    return data_.index() == 0;
  }
  [[nodiscard]] bool is_err() const noexcept {
    return data_.index() == 1;
  }
  explicit operator bool() const noexcept {
    return is_ok();
  }

  /// The success value; must only be called when `is_ok()`.
  [[nodiscard]] T& value() & {
    assert(is_ok());
    return std::get<0>(data_);
  }
  [[nodiscard]] const T& value() const& {
    assert(is_ok());
    return std::get<0>(data_);
  }
  [[nodiscard]] T&& value() && {
    assert(is_ok());
    return std::get<0>(std::move(data_));
  }
  T* operator->() {
    return &value();
  }
  const T* operator->() const {
    return &value();
  }
  T& operator*() & {
    return value();
  }
  const T& operator*() const& {
    return value();
  }

  /// The error; must only be called when `is_err()`.
  [[nodiscard]] E& error() & {
    assert(is_err());
    return std::get<1>(data_);
  }
  [[nodiscard]] const E& error() const& {
    assert(is_err());
    return std::get<1>(data_);
  }

  /// The value, or `fallback` on error.
  [[nodiscard]] T value_or(T fallback) const& {
    return is_ok() ? value() : std::move(fallback);
  }

  friend bool operator==(const result&, const result&) = default;

private:
  std::variant<T, E> data_;
};

/// A result that carries no value on success.
template <class E>
class result<void, E> {
public:
  using value_type = void;
  using error_type = E;

  result() = default;

  template <class U>
  requires std::is_convertible_v<U, E>
  result(err_value<U> x) // NOLINT(google-explicit-constructor)
      : error_(std::move(x.error)) {}

  result(E x) // NOLINT(google-explicit-constructor)
      : error_(std::move(x)) {}

  [[nodiscard]] bool is_ok() const noexcept {
    return !error_.has_value();
  }
  [[nodiscard]] bool is_err() const noexcept {
    return error_.has_value();
  }
  explicit operator bool() const noexcept {
    return is_ok();
  }
  [[nodiscard]] const E& error() const& {
    assert(is_err());
    return *error_;
  }

  friend bool operator==(const result&, const result&) = default;

private:
  std::optional<E> error_;
};

/// Success for `result<void>`: `return ok();`.
[[nodiscard]] inline result<void> ok() {
  return {};
}

/// JSON form of a result: `{"ok": true, "value": ...}` or
/// `{"ok": false, "error": {...}}`.
template <class T, class E>
void tag_invoke(boost::json::value_from_tag, boost::json::value& out,
                const result<T, E>& r) {
  if (r.is_ok())
    out = {{"ok", true}, {"value", boost::json::value_from(r.value())}};
  else
    out = {{"ok", false}, {"error", boost::json::value_from(r.error())}};
}

template <class T, class E>
boost::json::result<result<T, E>>
tag_invoke(boost::json::try_value_to_tag<result<T, E>>,
           const boost::json::value& in) {
  const auto* obj = in.if_object();
  const auto* flag = obj ? obj->if_contains("ok") : nullptr;
  if (flag == nullptr || !flag->is_bool())
    return boost::json::make_error_code(boost::json::error::not_object);
  if (flag->get_bool()) {
    const auto* v = obj->if_contains("value");
    if (v == nullptr)
      return boost::json::make_error_code(boost::json::error::not_found);
    // A copy of its own: Boost's would share the document's storage, which
    // may not outlive it (stores read records from scratch documents).
    if constexpr (std::is_same_v<T, boost::json::value>) {
      return result<T, E>{
        ok(boost::json::value(*v, boost::json::storage_ptr{}))};
    } else {
      auto value = boost::json::try_value_to<T>(*v);
      if (!value)
        return value.error();
      return result<T, E>{ok(std::move(*value))};
    }
  }
  const auto* e = obj->if_contains("error");
  if (e == nullptr)
    return boost::json::make_error_code(boost::json::error::not_found);
  auto error = boost::json::try_value_to<E>(*e);
  if (!error)
    return error.error();
  return result<T, E>{err(std::move(*error))};
}

/// A lookup's value, or NOT_FOUND with the message `what` when it found
/// nothing; a failed lookup keeps its error.
template <class T>
[[nodiscard]] result<T> found_or(result<std::optional<T>> found,
                                 const std::string& what) {
  if (found.is_err())
    return result<T>{found.error()};
  if (!found.value())
    return result<T>{make_error(error_type::not_found, what)};
  return result<T>{std::move(*found.value())};
}

} // namespace signoff::model
