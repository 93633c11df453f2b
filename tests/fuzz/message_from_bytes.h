// Structure-aware fuzzing without a mutator library: fills any protobuf message from fuzz
// bytes through reflection, so a fuzz target reaches every field with any value of its
// type (an int64 timestamp second of INT64_MIN, a 5000-byte label, an unknown enum number)
// instead of hoping byte mutations keep the wire format intact.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <string>

namespace intentstream::fuzz {

// For each field of `msg`'s type, in order: one byte says whether to set it, then its
// value (repeated fields: a count of up to `max_items`, then the values). Messages nest up
// to `depth` levels. Strings are of random length up to `max_string_bytes` and are
// forced to valid UTF-8 (string fields must be; invalid UTF-8 is what raw-byte fuzzing is
// for) by dropping the high bit of each byte.
inline void FillMessage(FuzzedDataProvider& in, google::protobuf::Message* msg, int depth = 3,
                        int max_items = 8, size_t max_string_bytes = 4096) {
  using FD = google::protobuf::FieldDescriptor;
  const auto* d = msg->GetDescriptor();
  const auto* r = msg->GetReflection();
  for (int i = 0; i < d->field_count() && in.remaining_bytes() > 0; ++i) {
    const FD* f = d->field(i);
    if (!in.ConsumeBool()) continue;
    const int n = f->is_repeated() ? in.ConsumeIntegralInRange<int>(0, max_items) : 1;
    for (int k = 0; k < n; ++k) {
      switch (f->cpp_type()) {
        case FD::CPPTYPE_INT32: {
          const auto v = in.ConsumeIntegral<int32_t>();
          f->is_repeated() ? r->AddInt32(msg, f, v) : r->SetInt32(msg, f, v);
          break;
        }
        case FD::CPPTYPE_INT64: {
          const auto v = in.ConsumeIntegral<int64_t>();
          f->is_repeated() ? r->AddInt64(msg, f, v) : r->SetInt64(msg, f, v);
          break;
        }
        case FD::CPPTYPE_UINT32: {
          const auto v = in.ConsumeIntegral<uint32_t>();
          f->is_repeated() ? r->AddUInt32(msg, f, v) : r->SetUInt32(msg, f, v);
          break;
        }
        case FD::CPPTYPE_UINT64: {
          const auto v = in.ConsumeIntegral<uint64_t>();
          f->is_repeated() ? r->AddUInt64(msg, f, v) : r->SetUInt64(msg, f, v);
          break;
        }
        case FD::CPPTYPE_BOOL: {
          const bool v = in.ConsumeBool();
          f->is_repeated() ? r->AddBool(msg, f, v) : r->SetBool(msg, f, v);
          break;
        }
        case FD::CPPTYPE_ENUM: {
          // Mostly a defined value, sometimes any number (open enums keep it).
          const int v = in.ConsumeBool() ? f->enum_type()
                                               ->value(in.ConsumeIntegralInRange<int>(
                                                   0, f->enum_type()->value_count() - 1))
                                               ->number()
                                         : in.ConsumeIntegral<int32_t>();
          f->is_repeated() ? r->AddEnumValue(msg, f, v) : r->SetEnumValue(msg, f, v);
          break;
        }
        case FD::CPPTYPE_STRING: {
          std::string v = in.ConsumeRandomLengthString(max_string_bytes);
          if (f->type() == FD::TYPE_STRING) {
            for (char& c : v) c = static_cast<char>(c & 0x7f);
          }
          f->is_repeated() ? r->AddString(msg, f, std::move(v))
                           : r->SetString(msg, f, std::move(v));
          break;
        }
        case FD::CPPTYPE_FLOAT:
        case FD::CPPTYPE_DOUBLE:
          break;  // none in the input contracts
        case FD::CPPTYPE_MESSAGE:
          if (depth > 0) {
            FillMessage(in, f->is_repeated() ? r->AddMessage(msg, f) : r->MutableMessage(msg, f),
                        depth - 1, max_items, max_string_bytes);
          }
          break;
      }
    }
  }
}

}  // namespace intentstream::fuzz
