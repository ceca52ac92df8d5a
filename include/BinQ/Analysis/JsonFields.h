//===- JsonFields.h - typed fields of JSON config files ---------*- C++ -*-===//
//
// Reading config.json and recipe files: every error names the file and the
// field. Shared by the size/FLOPs report and the model importer.
//
//===----------------------------------------------------------------------===//

#ifndef BINQ_ANALYSIS_JSONFIELDS_H
#define BINQ_ANALYSIS_JSONFIELDS_H

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace binq::json {

/// Reads typed fields of one JSON object; every error names the file and the
/// field.
class FieldReader {
public:
  FieldReader(const llvm::json::Object &object, llvm::StringRef path)
      : object(object), path(path) {}

  llvm::Error error(const llvm::Twine &message) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + message);
  }

  bool has(llvm::StringRef field) const { return object.get(field) != nullptr; }

  llvm::Expected<int64_t> integer(llvm::StringRef field) const {
    const llvm::json::Value *value = object.get(field);
    if (!value)
      return error("missing field '" + field + "'");
    std::optional<int64_t> result = value->getAsInteger();
    if (!result)
      return error("field '" + field + "' must be an integer");
    return *result;
  }

  llvm::Expected<int64_t> positive(llvm::StringRef field) const {
    llvm::Expected<int64_t> result = integer(field);
    if (result && *result <= 0)
      return error("field '" + field + "' must be positive, not " +
                   llvm::Twine(*result));
    return result;
  }

  llvm::Expected<int64_t> positiveOr(llvm::StringRef field,
                                     int64_t fallback) const {
    if (!has(field) || object.get(field)->kind() == llvm::json::Value::Null)
      return fallback;
    return positive(field);
  }

  llvm::Expected<std::string> string(llvm::StringRef field) const {
    const llvm::json::Value *value = object.get(field);
    if (!value)
      return error("missing field '" + field + "'");
    std::optional<llvm::StringRef> result = value->getAsString();
    if (!result)
      return error("field '" + field + "' must be a string");
    return result->str();
  }

  llvm::Expected<bool> boolean(llvm::StringRef field) const {
    const llvm::json::Value *value = object.get(field);
    if (!value)
      return error("missing field '" + field + "'");
    std::optional<bool> result = value->getAsBoolean();
    if (!result)
      return error("field '" + field + "' must be true or false");
    return *result;
  }

  /// Reads an integer field that must be one of `allowed`.
  llvm::Expected<int> bits(llvm::StringRef field,
                           llvm::ArrayRef<int> allowed) const {
    llvm::Expected<int64_t> result = integer(field);
    if (!result)
      return result.takeError();
    if (!llvm::is_contained(allowed, *result)) {
      std::string list;
      for (int value : allowed)
        list += (list.empty() ? "" : ", ") + std::to_string(value);
      return error("unsupported " + field + " " + llvm::Twine(*result) +
                   " (supported: " + list + ")");
    }
    return static_cast<int>(*result);
  }

private:
  const llvm::json::Object &object;
  llvm::StringRef path;
};
/// Parses `text` as a JSON object; errors name `path`.
inline llvm::Expected<llvm::json::Object> parseObject(llvm::StringRef text,
                                                      llvm::StringRef path) {
  llvm::Expected<llvm::json::Value> value = llvm::json::parse(text);
  if (!value)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        path + ": invalid JSON: " + llvm::toString(value.takeError()));
  llvm::json::Object *object = value->getAsObject();
  if (!object)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": expected a JSON object");
  return std::move(*object);
}

} // namespace binq::json

#endif // BINQ_ANALYSIS_JSONFIELDS_H
