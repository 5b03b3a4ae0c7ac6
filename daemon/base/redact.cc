#include "base/redact.h"

namespace stsync {

std::string Redact(std::string text,
                   std::initializer_list<std::string_view> secrets) {
  static constexpr std::string_view kMark = "[redacted]";
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kMark.size())) {
      text.replace(at, secret.size(), kMark);
    }
  }
  return text;
}

std::string ServerText(const std::string& body,
                       std::initializer_list<std::string_view> secrets,
                       size_t max_chars) {
  // Redacted before it is cut, so that no prefix of a secret survives.
  const std::string clean = Redact(body, secrets);
  std::string out;
  bool in_tag = false;
  for (char c : clean) {
    if (c == '<') {
      in_tag = true;
    } else if (c == '>') {
      in_tag = false;
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (!in_tag) {
      char p = (c >= 32 && c < 127) ? c : ' ';
      if (p == ' ' && (out.empty() || out.back() == ' ')) continue;
      out += p;
    }
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace stsync
