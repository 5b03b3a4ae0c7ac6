#include "config/catalog.h"

namespace stsync {
namespace {

// appointment-assignments returns only active rows unless asked for all of
// them, and an export must see deactivations too. The spec says appointments
// returns all rows by default; it is asked explicitly as well, which is
// harmless and guards against that default changing.
const std::vector<std::pair<std::string, std::string>> kAllActiveStates = {
    {"active", "Any"}};

// gross-pay-items may carry `id: null` (items computed by payroll rather than
// stored). Such rows are identified by every field that tells two items
// apart and stays the same across versions of one item: regular and overtime
// time of one timesheet differ only in paidTimeType, activities in
// activityCodeId, time segments in startedOn. amount is left out: an edited
// amount is a new version of the same item, not a new item.
const std::vector<std::string> kGrossPayItemIdentity = {
    "payrollId",      "employeeId",   "grossPayItemType",
    "sourceEntityId", "jobId",        "invoiceItemId",
    "date",           "paidTimeType", "activityCodeId",
    "startedOn"};

std::vector<Endpoint> BuildCatalog() {
  using E = Endpoint;
  // One entry per export endpoint of the public OpenAPI documents, grouped by
  // API module. tests/catalog_test.cc checks this list against the specs.
  return {
      E{.name = "invoices",
        .path = "/accounting/v2/tenant/{tenant}/export/invoices"},
      E{.name = "invoice-items",
        .path = "/accounting/v2/tenant/{tenant}/export/invoice-items"},
      E{.name = "payments",
        .path = "/accounting/v2/tenant/{tenant}/export/payments"},
      E{.name = "inventory-bills",
        .path = "/accounting/v2/tenant/{tenant}/export/inventory-bills"},
      E{.name = "bookings", .path = "/crm/v2/tenant/{tenant}/export/bookings"},
      E{.name = "customer-contacts",
        .path = "/crm/v2/tenant/{tenant}/export/customers/contacts"},
      E{.name = "location-contacts",
        .path = "/crm/v2/tenant/{tenant}/export/locations/contacts"},
      E{.name = "customers",
        .path = "/crm/v2/tenant/{tenant}/export/customers"},
      E{.name = "leads", .path = "/crm/v2/tenant/{tenant}/export/leads"},
      E{.name = "locations",
        .path = "/crm/v2/tenant/{tenant}/export/locations"},
      E{.name = "technician-ratings",
        .path = "/customer-interactions/v2/tenant/{tenant}/export/"
                "technician-ratings",
        .key_fields = {"technicianId", "jobId"}},
      E{.name = "appointment-assignments",
        .path = "/dispatch/v2/tenant/{tenant}/export/appointment-assignments",
        .params = kAllActiveStates},
      E{.name = "installed-equipment",
        .path =
            "/equipmentsystems/v2/tenant/{tenant}/export/installed-equipment"},
      E{.name = "adjustments",
        .path = "/inventory/v2/tenant/{tenant}/export/adjustments"},
      E{.name = "purchase-orders",
        .path = "/inventory/v2/tenant/{tenant}/export/purchase-orders"},
      E{.name = "returns",
        .path = "/inventory/v2/tenant/{tenant}/export/returns"},
      E{.name = "transfers",
        .path = "/inventory/v2/tenant/{tenant}/export/transfers"},
      E{.name = "jobs", .path = "/jpm/v2/tenant/{tenant}/export/jobs"},
      E{.name = "projects", .path = "/jpm/v2/tenant/{tenant}/export/projects"},
      E{.name = "appointments",
        .path = "/jpm/v2/tenant/{tenant}/export/appointments",
        .params = kAllActiveStates},
      E{.name = "job-canceled-logs",
        .path = "/jpm/v2/tenant/{tenant}/export/job-canceled-logs",
        .version_field = "createdOn"},
      E{.name = "job-notes",
        .path = "/jpm/v2/tenant/{tenant}/export/job-notes"},
      E{.name = "project-notes",
        .path = "/jpm/v2/tenant/{tenant}/export/project-notes"},
      E{.name = "job-history",
        .path = "/jpm/v2/tenant/{tenant}/export/job-history",
        .version_field = "date",
        .explode_field = "history",
        .parent_field = "jobId"},
      E{.name = "membership-types",
        .path = "/memberships/v2/tenant/{tenant}/export/membership-types"},
      E{.name = "recurring-service-types",
        .path =
            "/memberships/v2/tenant/{tenant}/export/recurring-service-types"},
      E{.name = "memberships",
        .path = "/memberships/v2/tenant/{tenant}/export/memberships"},
      E{.name = "invoice-templates",
        .path = "/memberships/v2/tenant/{tenant}/export/invoice-templates"},
      E{.name = "recurring-services",
        .path = "/memberships/v2/tenant/{tenant}/export/recurring-services"},
      E{.name = "recurring-service-events",
        .path =
            "/memberships/v2/tenant/{tenant}/export/recurring-service-events"},
      E{.name = "membership-status-changes",
        .path =
            "/memberships/v2/tenant/{tenant}/export/membership-status-changes",
        .version_field = "createdOn"},
      E{.name = "job-splits",
        .path = "/payroll/v2/tenant/{tenant}/export/jobs/splits"},
      E{.name = "payroll-adjustments",
        .path = "/payroll/v2/tenant/{tenant}/export/payroll-adjustments"},
      E{.name = "job-timesheets",
        .path = "/payroll/v2/tenant/{tenant}/export/jobs/timesheets"},
      E{.name = "activity-codes",
        .path = "/payroll/v2/tenant/{tenant}/export/activity-codes"},
      E{.name = "timesheet-codes",
        .path = "/payroll/v2/tenant/{tenant}/export/timesheet-codes"},
      E{.name = "gross-pay-items",
        .path = "/payroll/v2/tenant/{tenant}/export/gross-pay-items",
        .fallback_key_fields = kGrossPayItemIdentity},
      E{.name = "payroll-settings",
        .path = "/payroll/v2/tenant/{tenant}/export/payroll-settings",
        .key_fields = {"employeeId"}},
      E{.name = "categories",
        .path = "/pricebook/v2/tenant/{tenant}/export/categories"},
      E{.name = "equipment",
        .path = "/pricebook/v2/tenant/{tenant}/export/equipment"},
      E{.name = "services",
        .path = "/pricebook/v2/tenant/{tenant}/export/services"},
      E{.name = "materials",
        .path = "/pricebook/v2/tenant/{tenant}/export/materials"},
      E{.name = "estimates",
        .path = "/sales/v2/tenant/{tenant}/export/estimates"},
      E{.name = "estimates-legacy",
        .path = "/sales/v2/tenant/{tenant}/estimates/export"},
      E{.name = "service-agreements",
        .path =
            "/service-agreements/v2/tenant/{tenant}/export/service-agreements"},
      E{.name = "employees",
        .path = "/settings/v2/tenant/{tenant}/export/employees"},
      E{.name = "technicians",
        .path = "/settings/v2/tenant/{tenant}/export/technicians"},
      E{.name = "business-units",
        .path = "/settings/v2/tenant/{tenant}/export/business-units"},
      E{.name = "tag-types",
        .path = "/settings/v2/tenant/{tenant}/export/tag-types"},
      E{.name = "calls", .path = "/telecom/v2/tenant/{tenant}/export/calls"},
      E{.name = "activity-categories",
        .path = "/timesheets/v2/tenant/{tenant}/export/activity-categories"},
      E{.name = "activity-types",
        .path = "/timesheets/v2/tenant/{tenant}/export/activity-types"},
      E{.name = "activities",
        .path = "/timesheets/v2/tenant/{tenant}/export/activities"},
  };
}

}  // namespace

const std::vector<Endpoint>& Catalog() {
  static const std::vector<Endpoint>* catalog = [] {
    auto* all = new std::vector<Endpoint>(BuildCatalog());
    for (Endpoint& e : ListCatalog()) all->push_back(std::move(e));
    for (Endpoint& e : *all) {
      std::string key = e.path;
      if (!e.explode_field.empty()) key += "#" + e.explode_field;
      e.view_fields = FieldNames(SpecFields(key));
      e.view_types = FieldTypes(SpecFields(key));
    }
    return all;
  }();
  return *catalog;
}

namespace {

// Calls `each` with every "name:K" item of a SpecFields() text.
template <typename F>
void ForEachSpecField(std::string_view spec_fields, F each) {
  size_t start = 0;
  while (start < spec_fields.size()) {
    size_t end = spec_fields.find(',', start);
    if (end == std::string_view::npos) end = spec_fields.size();
    each(spec_fields.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

std::vector<std::string> FieldNames(std::string_view spec_fields) {
  std::vector<std::string> names;
  ForEachSpecField(spec_fields, [&](std::string_view item) {
    names.emplace_back(item.substr(0, item.find(':')));
  });
  return names;
}

std::string FieldTypes(std::string_view spec_fields) {
  std::string types;
  ForEachSpecField(spec_fields, [&](std::string_view item) {
    const size_t colon = item.find(':');
    types += colon != std::string_view::npos && colon + 1 < item.size()
                 ? item[colon + 1]
                 : 'S';
  });
  return types;
}

const Endpoint* FindEndpoint(std::string_view name) {
  for (const auto& e : Catalog()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

bool SelectedByAll(std::string_view name) { return name != "estimates-legacy"; }

}  // namespace stsync
