#include "sink/pg_connection.h"

#include <libpq-fe.h>

#include "base/redact.h"

namespace stsync {
namespace {

// The password the connection string carries, if any ("" otherwise), so that
// no message can repeat it.
std::string PasswordOf(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (err) PQfreemem(err);
  std::string password;
  for (PQconninfoOption* o = opts; o && o->keyword; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val) {
      password = o->val;
    }
  }
  if (opts) PQconninfoFree(opts);
  return password;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

}  // namespace

PgRows::~PgRows() { PQclear(r_); }
int PgRows::size() const { return PQntuples(r_); }
bool PgRows::IsNull(int row, int col) const {
  return PQgetisnull(r_, row, col) != 0;
}
std::string PgRows::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
int64_t PgRows::Int(int row, int col) const {
  return IsNull(row, col) ? 0 : std::stoll(PQgetvalue(r_, row, col));
}
int64_t PgRows::affected() const {
  const char* n = PQcmdTuples(r_);
  return n && *n ? std::stoll(n) : 0;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& url, const std::string& application_name) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    std::string why = err ? Trimmed(err) : "out of memory";
    if (err) PQfreemem(err);
    return Status::Invalid("database.url does not parse: " +
                           Redact(why, {PasswordOf(url)}));
  }
  PQconninfoFree(opts);
  // A server that never answers fails the attempt after 10 s, unless the
  // URL says otherwise (its values come later, so they win).
  const char* keywords[] = {"connect_timeout", "application_name", "dbname",
                            nullptr};
  const char* values[] = {"10", application_name.c_str(), url.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = conn ? Trimmed(PQerrorMessage(conn)) : "out of memory";
    PQfinish(conn);
    return Status::Busy("cannot connect to PostgreSQL at " +
                        DescribePgUrl(url) + ": " +
                        Redact(why, {PasswordOf(url)}));
  }
  // Notices (an object that already exists, say) are not errors.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn, url));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

std::string PgConnection::server_version() const {
  const int v = PQserverVersion(conn_);
  return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}

Status PgConnection::Ready() {
  if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  if (now - last_reset_ >= std::chrono::seconds(1)) {
    last_reset_ = now;
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) {
      PQsetNoticeProcessor(
          conn_, [](void*, const char*) {}, nullptr);
      return Status::Ok();
    }
  }
  return Status::Busy(
      "lost the connection to PostgreSQL at " + DescribePgUrl(url_) + ": " +
      Redact(Trimmed(PQerrorMessage(conn_)), {PasswordOf(url_)}));
}

Status PgConnection::Error(const std::string& what, pg_result* r) const {
  std::string message = Trimmed(r ? PQresultErrorMessage(r) : "");
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  message = what + ": " + Redact(message, {PasswordOf(url_)});
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  // No SQLSTATE: libpq's own failure (the server gone mid-statement);
  // class 08: connection; 57P0x: the server shutting down or starting;
  // 40001/40P01: serialization and deadlock; 55P03: lock not available;
  // 53300: too many connections.
  if (PQstatus(conn_) != CONNECTION_OK || code.empty() ||
      code.rfind("08", 0) == 0 || code.rfind("57P0", 0) == 0 ||
      code == "40001" || code == "40P01" || code == "55P03" ||
      code == "53300") {
    return Status::Busy(message);
  }
  return Status::Io(message);
}

Result<PgRows> PgConnection::Run(const std::string& sql,
                                 const std::vector<PgParam>& params,
                                 const std::string& what) {
  Status ready = Ready();
  if (!ready.ok()) return ready.WithContext(what);
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].borrowed.data()) {
      values[i] = params[i].borrowed.data();
      lengths[i] = static_cast<int>(params[i].borrowed.size());
    } else if (params[i].value) {
      values[i] = params[i].value->data();
      lengths[i] = static_cast<int>(params[i].value->size());
    }
    formats[i] = params[i].binary ? 1 : 0;
  }
  pg_result* r =
      PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                   values.data(), lengths.data(), formats.data(), 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status s = Error(what, r);
    PQclear(r);
    return s;
  }
  return PgRows(r);
}

Status PgConnection::Exec(const std::string& sql, const std::string& what) {
  Status ready = Ready();
  if (!ready.ok()) return ready.WithContext(what);
  pg_result* r = PQexec(conn_, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  Status s = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? Status::Ok()
                                                               : Error(what, r);
  PQclear(r);
  return s;
}

Result<std::optional<std::string>> PgConnection::QueryText(
    const std::string& sql, const std::vector<PgParam>& params,
    const std::string& what) {
  auto rows = Run(sql, params, what);
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0 || rows->IsNull(0, 0)) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(rows->Text(0, 0));
}

PgTransaction::~PgTransaction() {
  if (open_) (void)c_->Exec("ROLLBACK", "rolling back");
}

bool PgConnection::in_transaction() const {
  const PGTransactionStatusType t = PQtransactionStatus(conn_);
  return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

Status PgTransaction::Begin() {
  if (c_->in_transaction()) {
    return Status::Invalid("a transaction is already open on this connection");
  }
  Status s =
      c_->Exec("BEGIN;" + c_->transaction_settings(), "starting a transaction");
  open_ = s.ok();
  return s;
}

Status PgTransaction::Commit() {
  Status s = c_->Exec("COMMIT", "committing");
  open_ = false;
  return s;
}

std::string DescribePgUrl(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (err) PQfreemem(err);
  if (!opts) return "";
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    const std::string_view k = o->keyword;
    const std::string v = o->val ? o->val : "";
    if (k == "user") user = v;
    if (k == "host") host = v;
    if (k == "port") port = v;
    if (k == "dbname") dbname = v;
  }
  PQconninfoFree(opts);
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  if (!host.empty() && host[0] != '/') out += host;
  if (!port.empty()) out += ":" + port;
  out += "/" + dbname;
  if (!host.empty() && host[0] == '/') out += "?host=" + host;
  return out;
}

std::string PgQuote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace stsync
