#include "lmdb_records.hpp"

#include "signoff/model/limits.hpp"

namespace signoff::persistence::detail {

namespace {

// The lengths in the records' prefixes hold every key the stores take.
static_assert(model::max_approval_key_bytes <= 0xFFFFU);
static_assert(model::max_run_id_bytes <= 0xFFU);

std::uint64_t millis_of(model::time_point t) {
  return static_cast<std::uint64_t>(model::to_millis(t));
}

/// Room a typical record's text fits in, so that writing it allocates
/// once instead of growing step by step; a larger one still grows.
constexpr std::size_t typical_approval_text = 1024;
constexpr std::size_t typical_header_text = 512;
constexpr std::size_t typical_checkpoint_text = 256;

/// An approval's records: 'a', the key's length (2 bytes), the key, then
/// `part`. Room is left for an audit entry's sequence.
std::string approval_prefix(std::string_view key, char part) {
  std::string k;
  k.reserve(key.size() + 12);
  k += 'a';
  k += static_cast<char>((key.size() >> 8U) & 0xFFU);
  k += static_cast<char>(key.size() & 0xFFU);
  k += key;
  k += part;
  return k;
}

/// A run's records: 'r', the id's length (1 byte), the id, then `part`.
/// Room is left for a checkpoint's number.
std::string run_prefix(std::string_view id, char part) {
  std::string k;
  k.reserve(id.size() + 7);
  k += 'r';
  k += static_cast<char>(id.size() & 0xFFU);
  k += id;
  k += part;
  return k;
}

} // namespace

std::string encode_approval(const model::approval_record& r) {
  std::string out;
  out.reserve(typical_approval_text);
  out += be64(r.revision);
  model::append_json(out, r);
  return out;
}

std::optional<std::uint64_t> stored_revision(std::string_view value) noexcept {
  if (value.size() < 8)
    return std::nullopt;
  return from_be64(value);
}

model::result<model::approval_record> decode_approval(std::string_view key,
                                                      std::string_view value) {
  auto revision = stored_revision(value);
  if (!revision)
    return corrupt_record(key);
  auto record = decode<model::approval_record>(value.substr(8), key);
  if (record.is_err())
    return record.error();
  if (record->key != key || record->revision != *revision)
    return corrupt_record(key);
  return record;
}

std::string deadline_key(model::time_point deadline, std::string_view key) {
  auto k = be64(millis_of(deadline));
  k += key;
  return k;
}

std::optional<std::string> decided_key(const model::approval_record& r) {
  if (r.status.is_pending() || !r.status.decided_at)
    return std::nullopt;
  // The layout of the deadlines' keys: an instant, then the key.
  return deadline_key(*r.status.decided_at, r.key);
}

std::string pending_value(const model::approval_record& r) {
  const auto last = r.final_deadline();
  return last ? be64(millis_of(*last)) : std::string{};
}

std::string audit_prefix(std::string_view key) {
  return approval_prefix(key, 't');
}

std::string audit_key(std::string_view key, std::uint64_t sequence) {
  auto k = audit_prefix(key);
  k += be64(sequence);
  return k;
}

std::string approval_record_key(std::string_view key) {
  return approval_prefix(key, 'r');
}

std::string encode_run_header(const model::saved_workflow_state& run,
                              std::uint32_t checkpoints) {
  std::string out;
  out.reserve(typical_header_text);
  model::append_header_json(out, run);
  // The count of the run's log joins the header's fields.
  out.pop_back();
  out += ",\"checkpoints\":";
  out += std::to_string(checkpoints);
  out += '}';
  return out;
}

model::result<run_header> decode_run_header(std::string_view id,
                                            std::string_view value) {
  const auto what = "run " + std::string{id};
  return with_document(
    value, what, [&](boost::json::value& doc) -> model::result<run_header> {
      auto* obj = doc.if_object();
      const auto* count = obj ? obj->if_contains("checkpoints") : nullptr;
      if (count == nullptr || !count->is_int64() || count->get_int64() < 0
          || count->get_int64() > UINT32_MAX)
        return corrupt_record(what);
      run_header out;
      out.checkpoints = static_cast<std::uint32_t>(count->get_int64());
      obj->erase("checkpoints");
      (*obj)["resumeState"] = boost::json::object{};
      auto run = boost::json::try_value_to<model::saved_workflow_state>(doc);
      if (!run || run->run_id != id)
        return corrupt_record(what);
      out.run = std::move(*run);
      return out;
    });
}

std::string encode_run_inputs(const model::saved_workflow_state& run) {
  // The text of {"input": ..., "metadata": ...}, written part by part so
  // that neither value is copied into an object first.
  std::string out = R"({"input":)";
  out += boost::json::serialize(run.input);
  out += R"(,"metadata":)";
  out += boost::json::serialize(run.metadata);
  out += '}';
  return out;
}

model::result<void> decode_run_inputs(std::string_view value,
                                      model::saved_workflow_state& run) {
  const auto what = "input of run " + run.run_id;
  return with_document(
    value, what, [&](const boost::json::value& doc) -> model::result<void> {
      const auto* obj = doc.if_object();
      const auto* input = obj ? obj->if_contains("input") : nullptr;
      const auto* metadata = obj ? obj->if_contains("metadata") : nullptr;
      if (input == nullptr || metadata == nullptr)
        return corrupt_record(what);
      run.input = *input;
      run.metadata = *metadata;
      return model::ok();
    });
}

std::string run_header_key(std::string_view id) {
  return run_prefix(id, 'h');
}

std::string run_inputs_key(std::string_view id) {
  return run_prefix(id, 'i');
}

std::string_view owner_of_record(std::string_view record_key) noexcept {
  if (record_key.size() >= 3 && record_key.front() == 'a') {
    const std::size_t length
      = (std::size_t{static_cast<unsigned char>(record_key[1])} << 8U)
        | static_cast<unsigned char>(record_key[2]);
    if (record_key.size() > length + 3)
      return record_key.substr(3, length);
  }
  if (record_key.size() >= 2 && record_key.front() == 'r') {
    const std::size_t length = static_cast<unsigned char>(record_key[1]);
    if (record_key.size() > length + 2)
      return record_key.substr(2, length);
  }
  return record_key;
}

std::string_view runs_prefix() noexcept {
  return "r";
}

std::optional<std::string_view>
run_id_of_header(std::string_view record_key) noexcept {
  if (!record_key.starts_with(runs_prefix()) || record_key.back() != 'h')
    return std::nullopt;
  const auto id = owner_of_record(record_key);
  if (id.size() + 3 != record_key.size())
    return std::nullopt;
  return id;
}

std::string checkpoint_prefix(std::string_view run_id) {
  return run_prefix(run_id, 'c');
}

std::string checkpoint_key(std::string_view run_id, std::uint32_t number) {
  return checkpoint_prefix(run_id) + be32(number);
}

std::string encode_checkpoint(const std::string& key,
                              const model::checkpoint& result) {
  std::string out;
  out.reserve(typical_checkpoint_text + key.size());
  out += R"({"key":)";
  out += boost::json::serialize(boost::json::string_view{key});
  out += R"(,"result":)";
  model::append_json(out, result);
  out += '}';
  return out;
}

model::result<void> decode_checkpoint(std::string_view value,
                                      model::saved_workflow_state& run) {
  const auto what = "checkpoint of run " + run.run_id;
  return with_document(
    value, what, [&](const boost::json::value& doc) -> model::result<void> {
      const auto* obj = doc.if_object();
      const auto* key = obj ? obj->if_contains("key") : nullptr;
      const auto* result = obj ? obj->if_contains("result") : nullptr;
      if (key == nullptr || !key->is_string() || result == nullptr)
        return corrupt_record(what);
      auto saved = boost::json::try_value_to<model::checkpoint>(*result);
      if (!saved)
        return corrupt_record(what);
      run.checkpoints.insert_or_assign(std::string{key->get_string()},
                                       std::move(*saved));
      return model::ok();
    });
}

std::string name_key(const std::string& name) {
  return name.empty() ? std::string(1, '\0') : name;
}

std::string finished_key(model::time_point updated_at,
                         std::string_view run_id) {
  auto k = be64(millis_of(updated_at));
  k += run_id;
  return k;
}

std::string finished_key(const model::saved_workflow_state& run) {
  return finished_key(run.updated_at, run.run_id);
}

bool storable_approval_key(std::string_view key) noexcept {
  return !key.empty() && key.size() <= model::max_approval_key_bytes;
}

bool storable_run_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= model::max_run_id_bytes;
}

} // namespace signoff::persistence::detail
