#include "model/endpoint.h"

namespace stsync {

std::string Endpoint::PathFor(const std::string& tenant) const {
  std::string out = path;
  const std::string placeholder = "{tenant}";
  for (size_t pos; (pos = out.find(placeholder)) != std::string::npos;) {
    out.replace(pos, placeholder.size(), tenant);
  }
  return out;
}

std::string Endpoint::TableName() const {
  std::string t = name;
  for (char& c : t) {
    if (c == '-') c = '_';
  }
  return t;
}

std::vector<std::string> Endpoint::KeyColumns() const {
  std::vector<std::string> cols;
  for (const auto& f : key_fields) cols.push_back(SnakeCase(f));
  return cols;
}

std::string Endpoint::ParentColumn() const {
  return parent_field.empty() ? "" : SnakeCase(parent_field);
}

std::string SnakeCase(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c == '-' ? '_' : c;
    }
  }
  return out;
}

bool IsValidEndpointName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace stsync
