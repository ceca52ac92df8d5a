//===- bq-run.cpp - run a compiled model on JSON inputs ------------------===//
//
// Loads a model library written by bq-compile (a module with a `binq.model`
// attribute) through the BinQ runtime, runs it on the token ids of a JSON
// file and writes its logits as JSON:
//
//   bq-run MODEL.so --input IN.json [--output OUT.json] [--repeat N] [--quiet]
//          [--threads N] [--profile] [--profile-json FILE]
//
// Every problem with the library or the input is an error naming the file
// and the problem, with exit code 1.
//
//===----------------------------------------------------------------------===//

#include "binq/runtime.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace cl = llvm::cl;
namespace json = llvm::json;

static cl::OptionCategory category("bq-run options");

static cl::opt<std::string> libraryPath(cl::Positional, cl::Required,
                                        cl::cat(category),
                                        cl::desc("<model.so>"));

static cl::opt<std::string> inputPath(
    "input", cl::Required, cl::cat(category), cl::value_desc("IN.json"),
    cl::desc("The inputs, a JSON object (the format is above); '-' reads "
             "stdin"));

static cl::opt<std::string>
    outputPath("output", cl::init("-"), cl::cat(category),
               cl::value_desc("OUT.json"),
               cl::desc("Where to write the outputs (default: stdout)"));

static cl::opt<unsigned> repeat(
    "repeat", cl::init(0), cl::cat(category), cl::value_desc("N"),
    cl::desc("After the first (warm-up) run, time N more runs and print the "
             "median latency in ms to stderr"));

static cl::opt<bool>
    quiet("quiet", cl::init(false), cl::cat(category),
          cl::desc("Do not print the outputs on stdout (--output FILE is "
                   "still written; --repeat still prints its latency)"));

static cl::opt<bool> profile(
    "profile", cl::init(false), cl::cat(category),
    cl::desc("Print to stderr where the time goes, per kind of op (calls, "
             "total ms, % of the run); needs a library compiled with "
             "bq-compile --profile. Profiles the --repeat runs, or the one "
             "run without --repeat"));

static cl::opt<std::string>
    profileJson("profile-json", cl::cat(category), cl::value_desc("FILE"),
                cl::desc("Write the profile as JSON to FILE: {\"runs\": R, "
                         "\"total_seconds\": T, \"kinds\": [{\"kind\": ..., "
                         "\"calls\": N, \"seconds\": S}, ...]}"));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "bq-run") << message << "\n";
  return 1;
}

namespace {

/// The inputs' keys, in the order the model takes them.
const char *const kInputNames[] = {"input_ids", "attention_mask",
                                   "token_type_ids"};

/// A [rows, columns] int32 array read from the input file.
struct Matrix {
  bool present = false;
  int64_t rows = 0, columns = 0;
  std::vector<int32_t> values;
};

/// "1 row", "2 rows", ...
std::string count(int64_t n, const char *noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

/// "a list", "a string", ... for messages.
const char *kindOf(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean";
  case json::Value::Number:
    return "a number";
  case json::Value::String:
    return "a string";
  case json::Value::Array:
    return "a list";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

std::string print(const json::Value &value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << value;
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  return text;
}

/// Reads `value` (the field `name`) as a list of equally long lists of
/// int32; `like`, if given, is input_ids, whose shape it must have.
llvm::Error readMatrix(const json::Value &value, llvm::StringRef name,
                       const Matrix *like, Matrix &out) {
  const json::Array *rows = value.getAsArray();
  if (!rows)
    return llvm::createStringError(
        "\"%s\" must be a list of lists of integers ([batch][sequence]), got "
        "%s",
        name.str().c_str(), kindOf(value));
  out.present = true;
  out.rows = rows->size();
  if (like && out.rows != like->rows)
    return llvm::createStringError(
        "\"%s\" has %s but \"input_ids\" has %lld: give one row per "
        "sequence",
        name.str().c_str(), count(out.rows, "row").c_str(),
        (long long)like->rows);
  if (out.rows == 0)
    return llvm::createStringError(
        "\"%s\" is empty: the batch needs at least one sequence",
        name.str().c_str());
  for (int64_t r = 0; r < out.rows; ++r) {
    const json::Value &rowValue = (*rows)[r];
    const json::Array *row = rowValue.getAsArray();
    if (!row)
      return llvm::createStringError(
          "%s[%lld] must be a list of integers, got %s (\"%s\" is a list of "
          "lists: [batch][sequence])",
          name.str().c_str(), (long long)r, kindOf(rowValue),
          name.str().c_str());
    int64_t length = row->size();
    if (r == 0) {
      out.columns = length;
      if (like && length != like->columns)
        return llvm::createStringError(
            "%s[0] has %s but input_ids[0] has %lld", name.str().c_str(),
            count(length, "value").c_str(), (long long)like->columns);
      if (length == 0)
        return llvm::createStringError(
            "%s[0] is empty: a sequence needs at least one token",
            name.str().c_str());
      out.values.reserve(out.rows * out.columns);
    } else if (length != out.columns) {
      if (like)
        return llvm::createStringError(
            "%s[%lld] has %s but input_ids[%lld] has %lld", name.str().c_str(),
            (long long)r, count(length, "value").c_str(), (long long)r,
            (long long)out.columns);
      return llvm::createStringError(
          "%s[%lld] has %s but %s[0] has %lld: every sequence must have the "
          "same length (pad the short ones and mask the padding with "
          "attention_mask 0)",
          name.str().c_str(), (long long)r, count(length, "token").c_str(),
          name.str().c_str(), (long long)out.columns);
    }
    for (int64_t c = 0; c < length; ++c) {
      const json::Value &element = (*row)[c];
      std::optional<int64_t> integer = element.getAsInteger();
      if (!integer) {
        if (element.getAsUINT64())
          return llvm::createStringError(
              "%s[%lld][%lld] = %s does not fit in int32", name.str().c_str(),
              (long long)r, (long long)c, print(element).c_str());
        return llvm::createStringError("%s[%lld][%lld] is not an integer: %s",
                                       name.str().c_str(), (long long)r,
                                       (long long)c, print(element).c_str());
      }
      if (*integer < INT32_MIN || *integer > INT32_MAX)
        return llvm::createStringError(
            "%s[%lld][%lld] = %lld does not fit in int32", name.str().c_str(),
            (long long)r, (long long)c, (long long)*integer);
      out.values.push_back(int32_t(*integer));
    }
  }
  return llvm::Error::success();
}

/// Reads the fields of the input file's JSON value.
llvm::Error readFields(const json::Value &parsed, Matrix (&inputs)[3]) {
  const json::Object *object = parsed.getAsObject();
  if (!object)
    return llvm::createStringError(
        "expected a JSON object {\"input_ids\": [[...]], ...}, got %s",
        kindOf(parsed));
  // Unknown keys first, in a stable order: a misspelt "attention_mask" must
  // not silently default.
  std::vector<std::string> unknown;
  for (const auto &field : *object) {
    llvm::StringRef key = field.first;
    if (std::find(std::begin(kInputNames), std::end(kInputNames), key) ==
        std::end(kInputNames))
      unknown.push_back(key.str());
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    std::string list;
    for (const std::string &key : unknown)
      list += (list.empty() ? "\"" : ", \"") + key + "\"";
    return llvm::createStringError(
        "unknown key%s %s (allowed keys: input_ids, attention_mask, "
        "token_type_ids)",
        unknown.size() > 1 ? "s" : "", list.c_str());
  }
  const json::Value *ids = object->get("input_ids");
  if (!ids)
    return llvm::createStringError(
        "no \"input_ids\": the input needs {\"input_ids\": [[...], ...]} "
        "(attention_mask and token_type_ids are optional)");
  if (llvm::Error error = readMatrix(*ids, "input_ids", nullptr, inputs[0]))
    return error;
  for (int i = 1; i < 3; ++i)
    if (const json::Value *value = object->get(kInputNames[i]))
      if (llvm::Error error =
              readMatrix(*value, kInputNames[i], &inputs[0], inputs[i]))
        return error;
  return llvm::Error::success();
}

/// Parses the input file's text into the three matrices; the messages of
/// its errors start with `path`.
llvm::Error readInputs(llvm::StringRef text, llvm::StringRef path,
                       Matrix (&inputs)[3]) {
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed) {
    // llvm::json says "[line:column, byte=offset]: message"; print it as
    // "path:line:column: ..." like a compiler diagnostic.
    std::string message = llvm::toString(parsed.takeError());
    llvm::StringRef rest(message), line, column;
    if (rest.consume_front("[")) {
      std::tie(line, rest) = rest.split(':');
      std::tie(column, rest) = rest.split(',');
      if (rest.contains("]: "))
        return llvm::createStringError(
            path + ":" + line + ":" + column +
            ": not valid JSON: " + rest.split("]: ").second);
    }
    return llvm::createStringError(path + ": not valid JSON: " + message);
  }
  if (llvm::Error error = readFields(*parsed, inputs))
    return llvm::createStringError(path + ": " +
                                   llvm::toString(std::move(error)));
  return llvm::Error::success();
}

/// Appends `values` ([rows, columns]) as the field `name`, one row a line.
/// Floats print with 9 significant digits (they read back exactly); NaN and
/// infinities, which JSON lacks, as null. Returns how many were not finite.
int64_t writeField(std::string &text, const char *name, const float *values,
                   int64_t rows, int64_t columns) {
  int64_t nonFinite = 0;
  text += "  \"";
  text += name;
  text += "\": [\n";
  char number[32];
  for (int64_t r = 0; r < rows; ++r) {
    text += "    [";
    for (int64_t c = 0; c < columns; ++c) {
      float value = values[r * columns + c];
      if (c)
        text += ", ";
      if (std::isfinite(value)) {
        std::snprintf(number, sizeof number, "%.9g", double(value));
        text += number;
      } else {
        text += "null";
        ++nonFinite;
      }
    }
    text += r + 1 < rows ? "],\n" : "]\n";
  }
  text += "  ]";
  return nonFinite;
}

/// Takes `--threads N` (or `-threads N`, `--threads=N`) out of the command
/// line before llvm::cl sees it: libLLVM registers an unrelated option of
/// that name. Returns the last value given, or an error for a missing value.
llvm::Expected<std::optional<std::string>> takeThreadsOption(int &argc,
                                                             char **argv) {
  std::optional<std::string> value;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg(argv[i]);
    if (arg == "--") {
      while (i < argc)
        argv[kept++] = argv[i++];
      break;
    }
    llvm::StringRef name = arg.ltrim('-');
    if (arg.starts_with("-") && name.consume_front("threads") &&
        (name.empty() || name.starts_with("="))) {
      if (name.consume_front("=")) {
        value = name.str();
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return llvm::createStringError(
            "--threads needs a value: the number of threads, from 1 to 256");
      }
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = nullptr;
  return value;
}

/// Reads a thread count from 1 to 256.
std::optional<int> parseThreads(llvm::StringRef text) {
  unsigned value;
  if (text.getAsInteger(10, value) || value < 1 || value > 256)
    return std::nullopt;
  return int(value);
}

/// The thread count to use: --threads, else BINQ_NUM_THREADS (checked, so
/// that a misspelt value is not silently replaced by the default), else the
/// runtime's default (the cores this process may run on).
llvm::Expected<int> chooseThreads(const std::optional<std::string> &option) {
  if (option) {
    if (std::optional<int> threads = parseThreads(*option))
      return *threads;
    return llvm::createStringError("--threads expects a number of threads "
                                   "from 1 to 256, got '" +
                                   *option + "'");
  }
  if (const char *environment = std::getenv("BINQ_NUM_THREADS")) {
    if (std::optional<int> threads = parseThreads(environment))
      return *threads;
    return llvm::createStringError(
        "BINQ_NUM_THREADS expects a number of threads from 1 to 256, got '" +
        llvm::Twine(environment) + "'");
  }
  return 0; // The runtime's default.
}

/// One row of the profile.
struct ProfileRow {
  std::string kind;
  int64_t calls;
  double seconds;
};

/// Prints the profile table to stderr: kinds by decreasing time, then the
/// time outside every instrumented op.
void printProfile(llvm::ArrayRef<ProfileRow> rows, unsigned runs,
                  double totalSeconds) {
  auto &os = llvm::errs();
  double perRun = totalSeconds / runs;
  os << llvm::format("bq-run: profile of %u run%s: %.3f ms in total, %.3f ms "
                     "per run (time on the calling thread)\n",
                     runs, runs == 1 ? "" : "s", totalSeconds * 1e3,
                     perRun * 1e3);
  size_t width = std::string("outside the instrumented ops").size();
  for (const ProfileRow &row : rows)
    width = std::max(width, row.kind.size());
  os << llvm::left_justify("kind", width) << "  "
     << llvm::right_justify("calls", 8) << "  "
     << llvm::right_justify("total ms", 12) << "  "
     << llvm::right_justify("% of run", 8) << "\n";
  double attributed = 0;
  auto percent = [&](double seconds) {
    return totalSeconds > 0 ? 100.0 * seconds / totalSeconds : 0.0;
  };
  for (const ProfileRow &row : rows) {
    attributed += row.seconds;
    os << llvm::left_justify(row.kind, width) << "  "
       << llvm::format("%8lld  %12.3f  %8.1f\n", (long long)row.calls,
                       row.seconds * 1e3, percent(row.seconds));
  }
  double outside = std::max(0.0, totalSeconds - attributed);
  os << llvm::left_justify("outside the instrumented ops", width) << "  "
     << llvm::format("%8s  %12.3f  %8.1f\n", "", outside * 1e3,
                     percent(outside));
}

/// Writes the profile as JSON to `path` ('-': stdout).
llvm::Error writeProfileJson(llvm::StringRef path,
                             llvm::ArrayRef<ProfileRow> rows, unsigned runs,
                             double totalSeconds) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createStringError("cannot write " + path + ": " +
                                   ec.message());
  {
    json::OStream writer(out.os(), 2);
    writer.object([&] {
      writer.attribute("runs", int64_t(runs));
      writer.attribute("total_seconds", totalSeconds);
      writer.attributeArray("kinds", [&] {
        for (const ProfileRow &row : rows)
          writer.object([&] {
            writer.attribute("kind", row.kind);
            writer.attribute("calls", row.calls);
            writer.attribute("seconds", row.seconds);
          });
      });
    });
  }
  out.os() << "\n";
  out.os().flush();
  if (out.os().has_error()) {
    std::string message = out.os().error().message();
    out.os().clear_error();
    return llvm::createStringError("cannot write " + path + ": " + message);
  }
  out.keep();
  return llvm::Error::success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  llvm::Expected<std::optional<std::string>> threadsOption =
      takeThreadsOption(argc, argv);
  if (!threadsOption)
    return fail(llvm::toString(threadsOption.takeError()));
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "bq-run: run a BinQ-compiled model on JSON inputs\n\n"
      "  bq-run MODEL.so --input IN.json [--output OUT.json] [--repeat N] "
      "[--quiet]\n"
      "         [--threads N] [--profile] [--profile-json FILE]\n\n"
      "MODEL.so is a library bq-compile wrote from a model (a module with "
      "a binq.model\nattribute).\n\n"
      "IN.json holds int32 [batch][sequence] lists, every row as long as the "
      "others:\n"
      "  {\"input_ids\": [[101, 7592, 102], [101, 2088, 102]],\n"
      "   \"attention_mask\": [[1, 1, 1], [1, 1, 0]],   (optional, default "
      "all 1)\n"
      "   \"token_type_ids\": [[0, 0, 0], [0, 0, 0]]}   (optional, default "
      "all 0)\n"
      "input_ids must lie in [0, vocab_size), token_type_ids in [0, "
      "type_vocab_size),\nthe mask is 0 or 1, and a sequence has at most "
      "max_position_embeddings tokens.\n\n"
      "OUT.json holds the float32 outputs, one row per sequence:\n"
      "  sequence_classification: {\"logits\": [[...], ...]}        "
      "[batch][num_labels]\n"
      "  question_answering:      {\"start_logits\": [[...], ...],\n"
      "                            \"end_logits\": [[...], ...]}    "
      "[batch][sequence]\n"
      "Values print with 9 significant digits (they read back exactly); a "
      "NaN or\ninfinity prints as null, with a warning.\n\n"
      "--threads N: the threads the model's parallel loops use, from 1 to 256 "
      "(default:\nBINQ_NUM_THREADS, else the cores this process may run "
      "on).\n\n"
      "Exit code 0 on success, 1 on any error (the message names the file "
      "and the\nproblem).\n");

  llvm::Expected<int> threads = chooseThreads(*threadsOption);
  if (!threads)
    return fail(llvm::toString(threads.takeError()));
  bq_set_num_threads(*threads);
  bool profiling = profile || profileJson.getNumOccurrences();

  char error[1024] = {0};
  bq_library *library = nullptr;
  if (bq_library_open(libraryPath.c_str(), &library, error, sizeof error) !=
      BQ_OK)
    return fail(error);
  struct Closer {
    bq_library *library;
    ~Closer() { bq_library_close(library); }
  } closer{library};
  const bq_model_info *model = bq_library_model(library);
  if (!model)
    return fail(libraryPath + " is not a model: it was compiled from a module "
                              "without a binq.model attribute (bq-exec runs "
                              "plain functions)");
  bool classification =
      llvm::StringRef(model->task) == BQ_TASK_SEQUENCE_CLASSIFICATION;
  if (profiling && bq_library_profile(library, nullptr, 0) < 0)
    return fail("profiling is unavailable: " + libraryPath +
                " was compiled without --profile (recompile it with "
                "bq-compile --profile)");

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputPath, /*IsText=*/true);
  if (!buffer)
    return fail("cannot read " + inputPath + ": " +
                buffer.getError().message());
  Matrix inputs[3];
  if (llvm::Error err = readInputs((*buffer)->getBuffer(), inputPath, inputs))
    return fail(llvm::toString(std::move(err)));

  int64_t batch = inputs[0].rows, seq = inputs[0].columns;
  int64_t columns = classification ? model->num_labels : seq;
  std::vector<float> output0(batch * columns),
      output1(classification ? 0 : batch * seq);
  auto run = [&]() {
    return bq_model_run(
        library, batch, seq, inputs[0].values.data(),
        inputs[1].present ? inputs[1].values.data() : nullptr,
        inputs[2].present ? inputs[2].values.data() : nullptr, output0.data(),
        classification ? nullptr : output1.data(), error, sizeof error);
  };
  auto warmUpStart = std::chrono::steady_clock::now();
  bq_status status = run();
  double profiledSeconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - warmUpStart)
                               .count();
  if (status == BQ_ERROR_INVALID_ARGUMENT)
    return fail(inputPath + ": " + error);
  if (status != BQ_OK)
    return fail(libraryPath + ": " + error);

  if (repeat > 0) {
    // The timed runs are the profiled ones (the warm-up pays for first
    // touches of memory).
    bq_library_profile_reset(library);
    profiledSeconds = 0;
    std::vector<double> times;
    for (unsigned i = 0; i < repeat; ++i) {
      auto start = std::chrono::steady_clock::now();
      run();
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
      profiledSeconds += times.back() * 1e-3;
    }
    std::sort(times.begin(), times.end());
    llvm::errs() << llvm::format(
        "bq-run: median latency %.4g ms over %u runs (batch %lld, sequence "
        "%lld)\n",
        times[times.size() / 2], unsigned(repeat), (long long)batch,
        (long long)seq);
  }

  if (profiling) {
    int32_t numKinds = bq_library_profile(library, nullptr, 0);
    std::vector<bq_profile_entry> entries(std::max<int32_t>(numKinds, 0));
    bq_library_profile(library, entries.data(), numKinds);
    std::vector<ProfileRow> rows;
    for (const bq_profile_entry &entry : entries)
      rows.push_back({entry.kind, entry.calls, entry.seconds});
    std::sort(rows.begin(), rows.end(),
              [](const ProfileRow &a, const ProfileRow &b) {
                return a.seconds != b.seconds ? a.seconds > b.seconds
                                              : a.kind < b.kind;
              });
    unsigned runs = repeat > 0 ? unsigned(repeat) : 1;
    if (profile)
      printProfile(rows, runs, profiledSeconds);
    if (profileJson.getNumOccurrences())
      if (llvm::Error err =
              writeProfileJson(profileJson, rows, runs, profiledSeconds))
        return fail(llvm::toString(std::move(err)));
  }

  std::string text = "{\n";
  int64_t nonFinite = 0;
  if (classification) {
    nonFinite += writeField(text, "logits", output0.data(), batch, columns);
  } else {
    nonFinite += writeField(text, "start_logits", output0.data(), batch, seq);
    text += ",\n";
    nonFinite += writeField(text, "end_logits", output1.data(), batch, seq);
  }
  text += "\n}\n";
  if (nonFinite)
    llvm::WithColor::warning(llvm::errs(), "bq-run")
        << nonFinite
        << " output values are NaN or infinite (written as null)\n";

  if (outputPath == "-" && quiet)
    return 0;
  std::error_code ec;
  llvm::ToolOutputFile out(outputPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return fail("cannot write " + outputPath + ": " + ec.message());
  out.os() << text;
  out.os().flush();
  if (out.os().has_error()) {
    std::string message = out.os().error().message();
    out.os().clear_error();
    return fail("cannot write " + outputPath + ": " + message);
  }
  out.keep();
  return 0;
}
