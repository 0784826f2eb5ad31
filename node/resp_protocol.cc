#include "node/resp_protocol.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace kv::node {

namespace {

// Finds the end of the line that starts at `pos`: the index of its "\r\n". npos if the
// input ends first.
size_t LineEnd(absl::string_view input, size_t pos) { return input.find("\r\n", pos); }

// Parses a decimal integer that is all of `text` (an optional '-' then digits).
bool ParseInteger(absl::string_view text, int64_t* value) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

RespParse ParseInline(absl::string_view input, size_t* consumed,
                      std::vector<absl::string_view>* args, std::string* error) {
  const size_t newline = input.find('\n');
  if (newline == absl::string_view::npos) {
    if (input.size() > kRespMaxInlineBytes) {
      *error = absl::StrCat("Protocol error: inline command longer than ", kRespMaxInlineBytes,
                            " bytes");
      return RespParse::kError;
    }
    return RespParse::kIncomplete;
  }
  if (newline > kRespMaxInlineBytes) {
    *error = absl::StrCat("Protocol error: inline command longer than ", kRespMaxInlineBytes,
                          " bytes");
    return RespParse::kError;
  }
  absl::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  *consumed = newline + 1;
  args->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) args->push_back(line.substr(start, i - start));
  }
  if (static_cast<int64_t>(args->size()) > kRespMaxArguments) {
    *error = absl::StrCat("Protocol error: more than ", kRespMaxArguments, " arguments");
    return RespParse::kError;
  }
  return args->empty() ? RespParse::kEmpty : RespParse::kCommand;
}

RespParse ParseOne(absl::string_view input, size_t* consumed,
                   std::vector<absl::string_view>* args, std::string* error) {
  if (input.empty()) return RespParse::kIncomplete;
  if (input[0] != '*') return ParseInline(input, consumed, args, error);

  size_t end = LineEnd(input, 0);
  if (end == absl::string_view::npos) {
    // "*<count>" is at most a few digits; a long line without CRLF is garbage.
    if (input.size() > 32) {
      *error = "Protocol error: invalid multibulk length";
      return RespParse::kError;
    }
    return RespParse::kIncomplete;
  }
  int64_t count = 0;
  if (!ParseInteger(input.substr(1, end - 1), &count) || count > kRespMaxArguments) {
    *error = absl::StrCat("Protocol error: invalid multibulk length (at most ", kRespMaxArguments,
                          " arguments)");
    return RespParse::kError;
  }
  size_t pos = end + 2;
  args->clear();
  if (count <= 0) {  // "*0" and "*-1" carry no command; skip them as Redis does
    *consumed = pos;
    return RespParse::kEmpty;
  }
  for (int64_t i = 0; i < count; ++i) {
    if (pos >= input.size()) return RespParse::kIncomplete;
    if (input[pos] != '$') {
      *error = absl::StrCat("Protocol error: expected '$', got '",
                            absl::string_view(&input[pos], 1), "'");
      return RespParse::kError;
    }
    end = LineEnd(input, pos);
    if (end == absl::string_view::npos) {
      if (input.size() - pos > 32) {
        *error = "Protocol error: invalid bulk length";
        return RespParse::kError;
      }
      return RespParse::kIncomplete;
    }
    int64_t length = 0;
    if (!ParseInteger(input.substr(pos + 1, end - pos - 1), &length) || length < 0 ||
        length > kRespMaxArgumentBytes) {
      *error = absl::StrCat("Protocol error: invalid bulk length (at most ", kRespMaxArgumentBytes,
                            " bytes per argument)");
      return RespParse::kError;
    }
    pos = end + 2;
    const size_t size = static_cast<size_t>(length);
    if (input.size() < pos + size + 2) return RespParse::kIncomplete;
    if (input.substr(pos + size, 2) != "\r\n") {
      *error = "Protocol error: bulk string not followed by CRLF";
      return RespParse::kError;
    }
    args->push_back(input.substr(pos, size));
    pos += size + 2;
  }
  *consumed = pos;
  return RespParse::kCommand;
}

}  // namespace

RespParse ParseRespCommand(absl::string_view input, size_t* consumed,
                           std::vector<absl::string_view>* args, std::string* error) {
  const RespParse parsed = ParseOne(input, consumed, args, error);
  if (parsed == RespParse::kIncomplete && input.size() > kRespMaxCommandBytes) {
    *error = absl::StrCat("Protocol error: command longer than ", kRespMaxCommandBytes, " bytes");
    return RespParse::kError;
  }
  return parsed;
}

void AppendSimpleString(absl::string_view text, std::string* out) {
  absl::StrAppend(out, "+", text, "\r\n");
}

void AppendError(absl::string_view text, std::string* out) {
  const size_t start = out->size();
  absl::StrAppend(out, "-", text);
  for (size_t i = start; i < out->size(); ++i) {
    if ((*out)[i] == '\r' || (*out)[i] == '\n') (*out)[i] = ' ';
  }
  out->append("\r\n");
}

void AppendInteger(int64_t value, std::string* out) { absl::StrAppend(out, ":", value, "\r\n"); }

void AppendBulkHeader(size_t length, std::string* out) {
  absl::StrAppend(out, "$", length, "\r\n");
}

void AppendBulkString(absl::string_view data, std::string* out) {
  AppendBulkHeader(data.size(), out);
  absl::StrAppend(out, data, "\r\n");
}

void AppendNull(std::string* out) { out->append("$-1\r\n"); }

void AppendArrayHeader(size_t count, std::string* out) {
  absl::StrAppend(out, "*", count, "\r\n");
}

}  // namespace kv::node
