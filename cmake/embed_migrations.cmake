# Writes OUTPUT, a C++ file holding every migrations/NNNN_name.sql file as a
# string, in order. Run with cmake -P at build time.
file(GLOB files "${MIGRATIONS_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "")
set(expected 1)
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  string(SUBSTRING "${name}" 0 4 num)
  math(EXPR version "${num}")
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "migration ${name}: expected number ${expected}")
  endif()
  math(EXPR expected "${expected} + 1")
  file(READ "${f}" sql)
  string(APPEND body "    {${version}, \"${name}\", R\"stsync_sql(${sql})stsync_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from migrations/*.sql by cmake/embed_migrations.cmake.\n"
"#include \"sink/migrations.h\"\n\n"
"namespace stsync {\n\n"
"const std::vector<Migration>& EmbeddedMigrations() {\n"
"  static const std::vector<Migration> kMigrations = {\n${body}  };\n"
"  return kMigrations;\n}\n\n}  // namespace stsync\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
