#include "fake/record_shapes.h"

#include <map>
#include <string_view>

#include "config/catalog.h"

namespace stsync::fake {
namespace {

// name:KIND pairs. KIND: I integer, N number, S string, B bool, D date-time,
// E:a|b|c enum, A array, O object. Written from the OpenAPI documents'
// response schemas; the fake fills arrays and objects with empty values.
const std::map<std::string, std::string_view>& Shapes() {
  static const auto* shapes = new std::map<std::string, std::string_view>{
      {"invoices",
       "summary:S,items:A,customFields:A,active:B,discountTotal:S,"
       "importId:S,exportId:S,materialSkuId:I,membershipId:I,paidOn:D,"
       "invoiceConfiguration:E:JobInvoice|ProjectInvoice|CounterSales|"
       "MembershipInvoice,"
       "id:I,syncStatus:S,budgetCodeId:I,referenceNumber:S,invoiceDate:D,"
       "dueDate:D,subTotal:S,salesTax:S,salesTaxCode:O,taxZoneId:I,total:S,"
       "balance:S,invoiceType:O,customer:O,customerAddress:O,location:O,"
       "locationAddress:O,businessUnit:O,termName:S,createdBy:S,batch:O,"
       "depositedOn:D,createdOn:D,modifiedOn:D,adjustmentToId:I,job:O,"
       "projectId:I,royalty:O,employeeInfo:O,commissionEligibilityDate:S,"
       "sentStatus:E:NotSent|Sent|Opened,"
       "reviewStatus:E:NeedsReview|OnHold|Reviewed|PendingApproval,"
       "assignedTo:O"},
      {"invoice-items",
       "id:I,description:S,quantity:S,cost:S,totalCost:S,budgetCodeId:I,"
       "inventoryLocationId:I,inventoryLocation:S,price:S,"
       "type:E:Service|Material|Equipment|PriceModifier,skuName:S,skuId:I,"
       "total:S,inventory:B,taxable:B,isChargeable:B,"
       "generalLedgerAccount:O,costOfSaleAccount:O,assetAccount:O,"
       "membershipTypeId:I,itemGroup:O,displayName:S,soldHours:N,"
       "createdOn:D,modifiedOn:D,serviceDate:D,order:I,businessUnit:O,"
       "createdById:I,displayInAmount:B,importId:S,exportId:S,"
       "inventoryStatus:S,addOn:B,memberPrice:S,technicianId:I,"
       "installedEquipmentId:I,estimateItemId:I,active:B,invoiceId:I"},
      {"payments",
       "active:B,appliedTo:A,authCode:S,batch:O,businessUnit:O,"
       "checkNumber:S,createdBy:S,createdOn:D,customer:O,customFields:A,"
       "date:D,deposit:O,generalLedgerAccount:O,id:I,memo:S,modifiedOn:D,"
       "referenceNumber:S,refundedPaymentId:I,syncStatus:S,total:S,type:S,"
       "typeId:S,unappliedAmount:S"},
      {"inventory-bills",
       "id:I,purchaseOrderId:I,syncStatus:S,referenceNumber:S,"
       "vendorNumber:S,summary:S,billDate:D,billAmount:S,taxAmount:S,"
       "shippingAmount:S,landedCostMethod:E:None|ByValue,otherAmount:S,"
       "createdBy:S,createdOn:D,modifiedOn:D,termName:S,dueDate:D,"
       "shipToDescription:S,postDate:D,batch:O,businessUnit:O,taxZone:O,"
       "vendor:O,shipTo:O,budgetCodeId:I,items:A,customFields:A,jobId:I,"
       "jobNumber:S,dateReconciled:D,active:B"},
      {"bookings",
       "summary:S,id:I,source:S,createdOn:D,name:S,address:O,"
       "customerType:E:Residential|Commercial,start:D,campaignId:I,"
       "businessUnitId:I,isFirstTimeClient:B,uploadedImages:A,"
       "isSendConfirmationEmail:B,"
       "status:E:New|Converted|Dismissed|Accepted,dismissingReasonId:I,"
       "jobId:I,externalId:S,priority:E:Low|Normal|High|Urgent,jobTypeId:I,"
       "bookingProviderId:I,modifiedOn:D,active:B"},
      {"customer-contacts",
       "modifiedOn:D,phoneSettings:O,createdOn:D,preferences:O,id:I,"
       "type:E:Phone|Email|Fax|MobilePhone,value:S,memo:S,customerId:I,"
       "active:B"},
      {"location-contacts",
       "id:I,type:E:Phone|Email|Fax|MobilePhone,value:S,memo:S,"
       "phoneSettings:O,modifiedOn:D,createdOn:D,preferences:O,"
       "locationId:I,active:B"},
      {"customers",
       "id:I,active:B,name:S,type:E:Residential|Commercial,address:O,"
       "customFields:A,balance:N,taxExempt:B,tagTypeIds:A,doNotMail:B,"
       "doNotService:B,nationalAccount:B,createdOn:D,createdById:I,"
       "modifiedOn:D,mergedToId:I,paymentTermId:I,creditLimit:N,"
       "creditLimitBalance:N,externalData:A"},
      {"leads",
       "summary:S,callReasonId:I,callId:I,bookingId:I,manualCallId:I,"
       "leadUrl:S,leadCustomerName:S,leadPhone:S,leadEmail:S,leadStreet:S,"
       "leadUnit:S,leadCity:S,leadState:S,leadZip:S,leadCountry:S,"
       "captureSource:S,id:I,status:E:Open|Dismissed|Converted,"
       "priority:E:Low|Normal|High|Urgent,customerId:I,locationId:I,"
       "businessUnitId:I,jobTypeId:I,campaignId:I,followUpDate:D,"
       "createdById:I,createdOn:D,modifiedOn:D,tagTypeIds:A,"
       "dismissingReasonId:I,active:B"},
      {"locations",
       "taxZoneId:I,id:I,customerId:I,active:B,name:S,address:O,"
       "customFields:A,createdOn:D,createdById:I,modifiedOn:D,mergedToId:I,"
       "zoneId:I,taxExempt:B,tagTypeIds:A,externalData:A"},
      {"technician-ratings",
       "technicianId:I,jobId:I,rating:N,active:B,createdOn:D,modifiedOn:D"},
      {"appointment-assignments",
       "id:I,technicianId:I,technicianName:S,assignedById:I,assignedOn:D,"
       "status:E:Scheduled|Dispatched|Working|Done,isPaused:B,jobId:I,"
       "appointmentId:I,createdOn:D,modifiedOn:D,active:B"},
      {"installed-equipment",
       "id:I,active:B,equipmentId:I,locationId:I,customerId:I,"
       "invoiceItemId:I,name:S,type:O,installedOn:D,createdOn:D,"
       "modifiedOn:D,serialNumber:S,barcodeId:S,memo:S,manufacturer:S,"
       "model:S,cost:N,status:E:Installed|Replaced,"
       "manufacturerWarrantyStart:D,manufacturerWarrantyEnd:D,"
       "serviceProviderWarrantyStart:D,serviceProviderWarrantyEnd:D,tags:A,"
       "actualReplacementDate:S,manufacturedOn:S,"
       "predictedReplacementMonths:I,predictedReplacementDate:S"},
      {"adjustments",
       "id:I,active:B,number:S,referenceNumber:S,type:S,"
       "inventoryLocationId:I,businessUnitId:I,projectId:I,invoiceId:I,"
       "createdById:I,memo:S,date:D,createdOn:D,modifiedOn:D,batchId:I,"
       "batch:O,syncStatus:E:Pending|Posted|Exported,"
       "canceledReason:E:NotRequired|Duplicate|Accidental|VendorIssue,"
       "canceledById:I,dateCanceled:D,externalData:A,items:A,"
       "customFields:A"},
      {"purchase-orders",
       "id:I,number:S,invoiceId:I,jobId:I,projectId:I,status:S,typeId:I,"
       "vendorId:I,technicianId:I,shipTo:O,businessUnitId:I,"
       "inventoryLocationId:I,batchId:I,budgetCodeId:I,"
       "vendorDocumentNumber:S,date:D,requiredOn:D,sentOn:D,receivedOn:D,"
       "createdOn:D,modifiedOn:D,total:N,tax:N,shipping:N,createdById:I,"
       "summary:S,items:A,customFields:A"},
      {"returns",
       "id:I,active:B,number:S,referenceNumber:S,"
       "status:E:Pending|Returned|CreditReceived|Canceled,returnTypeId:I,"
       "vendorId:I,purchaseOrderId:I,jobId:I,projectId:I,budgetCodeId:I,"
       "businessUnitId:I,inventoryLocationId:I,createdById:I,memo:S,"
       "returnAmount:N,taxAmount:N,shippingAmount:N,returnDate:D,"
       "returnedOn:D,creditReceivedOn:D,createdOn:D,modifiedOn:D,batchId:I,"
       "batch:O,syncStatus:E:Pending|Posted|Exported,canceledById:I,"
       "canceledReason:E:NotRequired|Duplicate|Accidental|VendorIssue,"
       "dateCanceled:D,items:A,customFields:A,externalData:A"},
      {"transfers",
       "id:I,transferType:S,status:S,number:S,referenceNumber:S,"
       "fromLocationId:I,toLocationId:I,createdById:I,memo:S,date:D,"
       "pickedDate:D,receivedDate:D,createdOn:D,modifiedOn:D,batchId:I,"
       "batch:O,syncStatus:E:Pending|Posted|Exported,dateRequired:D,"
       "jobId:I,invoiceId:I,canceledById:I,"
       "canceledReason:E:NotRequired|Duplicate|Accidental|VendorIssue,"
       "dateCanceled:D,active:B,pickedById:I,receivedById:I,items:A,"
       "customFields:A,externalData:A"},
      {"jobs",
       "summary:S,customFields:A,externalData:A,summaryOfWork:S,id:I,"
       "jobNumber:S,projectId:I,customerId:I,locationId:I,jobStatus:S,"
       "completedOn:D,businessUnitId:I,jobTypeId:I,priority:S,campaignId:I,"
       "appointmentCount:I,firstAppointmentId:I,lastAppointmentId:I,"
       "recallForId:I,warrantyId:I,jobGeneratedLeadSource:O,noCharge:B,"
       "notificationsEnabled:B,createdOn:D,createdById:I,modifiedOn:D,"
       "tagTypeIds:A,leadCallId:I,partnerLeadCallId:I,bookingId:I,"
       "soldById:I,customerPo:S,invoiceId:I,membershipId:I,total:N,"
       "createdFromEstimateId:I,estimateIds:A,equipmentIds:A,"
       "isAutoDispatched:B,active:B"},
      {"projects",
       "id:I,number:S,name:S,summary:S,status:S,statusId:I,subStatus:S,"
       "subStatusId:I,customerId:I,locationId:I,projectTypeId:I,"
       "projectManagerIds:A,businessUnitIds:A,startDate:D,"
       "targetCompletionDate:D,actualCompletionDate:D,modifiedOn:D,"
       "createdOn:D,customFields:A,externalData:A,jobIds:A,active:B"},
      {"appointments",
       "appointmentSummaries:A,id:I,jobId:I,appointmentNumber:S,start:D,"
       "end:D,arrivalWindowStart:D,arrivalWindowEnd:D,"
       "status:E:Scheduled|Dispatched|Working|Hold,specialInstructions:S,"
       "createdOn:D,modifiedOn:D,customerId:I,unused:B,createdById:I,"
       "isConfirmed:B,active:B"},
      {"job-canceled-logs",
       "id:I,jobId:I,reasonId:I,memo:S,createdOn:D,createdById:I,active:B"},
      {"job-notes",
       "id:I,active:B,text:S,isPinned:B,createdById:I,createdOn:D,"
       "modifiedOn:D,jobId:I"},
      {"project-notes",
       "id:I,active:B,text:S,isPinned:B,createdById:I,createdOn:D,"
       "modifiedOn:D,projectId:I"},
      {"job-history",
       "id:I,employeeId:I,eventType:S,date:D,"
       "usedSchedulingTool:E:Manual|SmartSchedule|SmartDispatch|"
       "TechnicianRouteOptimization"},
      {"membership-types",
       "id:I,createdOn:D,createdById:I,modifiedOn:D,importId:S,"
       "billingTemplateId:I,discount:N,durationBilling:A,discounts:A,"
       "recurringServices:A,tagTypeIds:A,name:S,displayName:S,active:B,"
       "discountMode:E:Basic|Units|Categories,"
       "locationTarget:E:AllLocations|SingleLocation,"
       "revenueRecognitionMode:E:PointOfSale|Deferred,"
       "autoCalculateInvoiceTemplates:B,useMembershipPricingTable:B,"
       "showMembershipSavings:B"},
      {"recurring-service-types",
       "id:I,createdOn:D,createdById:I,modifiedOn:D,active:B,"
       "recurrenceType:E:Weekly|Monthly|Seasonal|Daily,"
       "recurrenceInterval:I,recurrenceMonths:A,"
       "durationType:E:Continuous|NumberOfVisits,durationLength:I,"
       "invoiceTemplateId:I,businessUnitId:I,jobTypeId:I,"
       "priority:E:Low|Normal|High|Urgent,campaignId:I,jobSummary:S,name:S,"
       "importId:S"},
      {"memberships",
       "id:I,createdOn:D,createdById:I,modifiedOn:D,followUpOn:D,"
       "cancellationDate:D,from:D,nextScheduledBillDate:D,to:D,"
       "billingFrequency:E:OneTime|Monthly|EveryOtherMonth|Quarterly,"
       "renewalBillingFrequency:E:OneTime|Monthly|EveryOtherMonth|Quarterly,"
       "status:E:Active|Suspended|Expired|Canceled,"
       "followUpStatus:E:NotAttempted|Unreachable|Contacted|Won,active:B,"
       "initialDeferredRevenue:N,duration:I,renewalDuration:I,"
       "businessUnitId:I,customerId:I,membershipTypeId:I,activatedById:I,"
       "activatedFromId:I,billingTemplateId:I,"
       "cancellationBalanceInvoiceId:I,cancellationInvoiceId:I,"
       "followUpCustomStatusId:I,locationId:I,paymentMethodId:I,"
       "paymentTypeId:I,recurringLocationId:I,renewalMembershipTaskId:I,"
       "renewedById:I,soldById:I,customerPo:S,importId:S,memo:S,"
       "customFields:A"},
      {"invoice-templates",
       "id:I,name:S,createdOn:D,createdById:I,modifiedOn:D,active:B,"
       "total:N,isSettingsTemplate:B,importId:S,items:A"},
      {"recurring-services",
       "id:I,name:S,active:B,createdOn:D,createdById:I,modifiedOn:D,"
       "importId:S,membershipId:I,locationId:I,recurringServiceTypeId:I,"
       "durationType:E:Continuous|NumberOfVisits,durationLength:I,from:D,"
       "to:D,memo:S,invoiceTemplateId:I,"
       "invoiceTemplateForFollowingYearsId:I,firstVisitComplete:B,"
       "activatedFromId:I,allocation:N,businessUnitId:I,jobTypeId:I,"
       "campaignId:I,priority:E:Low|Normal|High|Urgent,jobSummary:S,"
       "recurrenceType:E:Weekly|Monthly|Seasonal|Daily,"
       "recurrenceInterval:I,recurrenceMonths:A,recurrenceDaysOfWeek:A,"
       "recurrenceWeek:E:None|First|Second|Third,"
       "recurrenceDayOfNthWeek:E:Sunday|Monday|Tuesday|Wednesday,"
       "recurrenceDaysOfMonth:A,jobStartTime:S,estimatedPayrollCost:N,"
       "preferredTechnicianIds:A,tagTypeIds:A"},
      {"recurring-service-events",
       "id:I,locationRecurringServiceId:I,locationRecurringServiceName:S,"
       "membershipId:I,membershipName:S,"
       "status:E:NotAttempted|Unreachable|Contacted|Won,date:D,createdOn:D,"
       "jobId:I,createdById:I,modifiedOn:D,active:B"},
      {"membership-status-changes",
       "id:I,oldStatus:E:Active|Suspended|Expired|Canceled,"
       "newStatus:E:Active|Suspended|Expired|Canceled,note:S,createdOn:D,"
       "createdById:I,membershipId:I"},
      {"job-splits",
       "id:I,jobId:I,technicianId:I,split:N,createdOn:D,modifiedOn:D,"
       "active:B"},
      {"payroll-adjustments",
       "id:I,employeeType:E:Technician|Employee,employeeId:I,postedOn:D,"
       "amount:N,memo:S,activityCodeId:I,invoiceId:I,hours:N,rate:N,"
       "quantity:N,type:E:Direct|CommissionBased|Labor|Advance,createdOn:D,"
       "modifiedOn:D,active:B"},
      {"job-timesheets",
       "id:I,jobId:I,appointmentId:I,technicianId:I,dispatchedOn:D,"
       "arrivedOn:D,canceledOn:D,doneOn:D,createdOn:D,modifiedOn:D,"
       "active:B"},
      {"activity-codes",
       "id:I,name:S,code:S,"
       "earningCategory:E:Timesheet|Commission|Reimbursement,createdOn:D,"
       "modifiedOn:D,isDiscretionary:B,active:B"},
      {"timesheet-codes",
       "id:I,code:S,description:S,"
       "type:E:Unpaid|Paid|ClockInOut|PaidTimeOff,"
       "applicableEmployeeType:E:Technician|Employee|All,rateInfo:O,"
       "createdOn:D,modifiedOn:D,active:B"},
      {"gross-pay-items",
       "id:I,employeeId:I,employeeType:E:Technician|Employee,"
       "businessUnitName:S,payrollId:I,employeePayrollId:S,date:D,"
       "activity:S,activityCodeId:I,activityCode:S,amount:N,"
       "amountAdjustment:N,payoutBusinessUnitName:S,"
       "grossPayItemType:E:InvoiceRelatedBonus|TimesheetTime|CustomBonus|"
       "Salary,"
       "startedOn:D,endedOn:D,paidDurationHours:N,"
       "paidTimeType:E:Regular|Overtime|DoubleOvertime|PaidTimeOff,"
       "sourceEntityId:I,jobId:I,jobNumber:S,jobTypeName:S,projectNumber:S,"
       "projectId:I,invoiceId:I,invoiceNumber:S,invoiceItemId:I,"
       "customerId:I,customerName:S,locationId:I,locationName:S,"
       "locationAddress:S,locationZip:S,zoneName:S,taxZoneName:S,"
       "laborTypeId:I,laborTypeCode:S,budgetCodeId:I,isPrevailingWageJob:B,"
       "memo:S,createdOn:D,modifiedOn:D,active:B"},
      {"payroll-settings",
       "employeeId:I,employeeType:E:Technician|Employee,"
       "externalPayrollId:S,hourlyRate:N,managerId:I,"
       "payrollBusinessUnitId:I,isIncludedInPayroll:B,hireDate:D,"
       "createdOn:D,modifiedOn:D,active:B,customFields:A"},
      {"categories",
       "id:I,name:S,active:B,description:S,image:S,parentId:I,position:I,"
       "categoryType:E:Services|Materials,subcategories:A,"
       "businessUnitIds:A,skuImages:A,skuVideos:A,source:S,externalId:S,"
       "hideInMobile:B,createdOn:D,modifiedOn:D"},
      {"equipment",
       "id:I,code:S,displayName:S,description:S,active:B,price:N,"
       "memberPrice:N,addOnPrice:N,addOnMemberPrice:N,manufacturer:S,"
       "model:S,manufacturerWarranty:O,serviceProviderWarranty:O,"
       "categories:A,assets:A,recommendations:A,upgrades:A,"
       "equipmentMaterials:A,primaryVendor:O,otherVendors:A,account:S,"
       "costOfSaleAccount:S,assetAccount:S,crossSaleGroup:S,"
       "paysCommission:B,bonus:N,commissionBonus:N,hours:N,taxable:B,"
       "cost:N,unitOfMeasure:S,isInventory:B,modifiedOn:D,source:S,"
       "externalId:S,externalData:A,isConfigurableEquipment:B,"
       "variationsOrConfigurableEquipment:A,typeId:I,displayInAmount:B,"
       "generalLedgerAccountId:I,createdOn:D,defaultAssetUrl:S,"
       "dimensions:O,budgetCostCode:S,budgetCostType:S,isCostLocked:B,"
       "isPriceLocked:B"},
      {"services",
       "id:I,code:S,displayName:S,description:S,warranty:O,categories:A,"
       "price:N,memberPrice:N,addOnPrice:N,addOnMemberPrice:N,taxable:B,"
       "account:S,hours:N,isLabor:B,recommendations:A,upgrades:A,assets:A,"
       "serviceMaterials:A,serviceEquipment:A,active:B,crossSaleGroup:S,"
       "paysCommission:B,bonus:N,commissionBonus:N,modifiedOn:D,source:S,"
       "externalId:S,externalData:A,businessUnitId:I,cost:N,createdOn:D,"
       "soldByCommission:N,defaultAssetUrl:S,budgetCostCode:S,"
       "budgetCostType:S,isPriceLocked:B"},
      {"materials",
       "id:I,code:S,displayName:S,description:S,cost:N,active:B,price:N,"
       "memberPrice:N,addOnPrice:N,addOnMemberPrice:N,hours:N,bonus:N,"
       "commissionBonus:N,paysCommission:B,deductAsJobCost:B,"
       "unitOfMeasure:S,isInventory:B,account:S,costOfSaleAccount:S,"
       "assetAccount:S,taxable:B,primaryVendor:O,otherVendors:A,"
       "categories:A,assets:A,modifiedOn:D,source:S,externalId:S,"
       "externalData:A,isConfigurableMaterial:B,chargeableByDefault:B,"
       "variationsOrConfigurableMaterials:A,businessUnitId:I,createdById:I,"
       "createdOn:D,displayInAmount:B,generalLedgerAccountId:I,"
       "isOtherDirectCost:B,costTypeId:I,defaultAssetUrl:S,"
       "budgetCostCode:S,budgetCostType:S,isCostLocked:B,isPriceLocked:B,"
       "isChemical:B,epaNumber:S,activeIngredients:S"},
      {"estimates",
       "id:I,jobId:I,projectId:I,locationId:I,customerId:I,name:S,"
       "jobNumber:S,status:O,"
       "reviewStatus:E:None|NeedsApproval|Approved|NotApproved,summary:S,"
       "createdOn:D,modifiedOn:D,soldOn:D,soldBy:I,active:B,items:A,"
       "externalLinks:A,subtotal:N,tax:N,businessUnitId:I,"
       "businessUnitName:S,isRecommended:B,budgetCodeId:I,isChangeOrder:B,"
       "proposalTagName:S,depositAmount:N,depositPercent:N,"
       "requireDepositOnSignature:B"},
      {"service-agreements",
       "id:I,name:S,createdOn:D,createdById:I,modifiedOn:D,modifiedById:I,"
       "templateFields:O,customerId:I,businessUnitId:I,"
       "status:E:Draft|Sent|Rejected|Accepted,locationIds:A,"
       "origin:E:Initial|AutoRenew|ManualRenew,summary:S,importId:S,"
       "importedDeferredAmount:N,importedRecognizedAmount:N,"
       "durationMonths:I,autoRenew:B,renewalAgreementId:I,startDate:S,"
       "endDate:S,"
       "billingSchedule:E:Upfront|Monthly|EveryOtherMonth|Quarterly,"
       "paymentTermId:I,paymentMethodId:I,estimatedTravelCost:N,"
       "estimatedLaborCost:N,estimatedMaterialCost:N,"
       "laborMarkupPercentage:N,materialMarkupPercentage:N,"
       "laborSurcharge:N,materialSurcharge:N,totalAgreementPrice:N,"
       "estimatedGrossMarginAmount:N,estimatedGrossMarginPercentage:N,"
       "rateSheetId:I,accountManagerId:I,soldById:I,tagTypeIds:A,"
       "customFields:A,active:B"},
      {"employees",
       "customFields:A,permissions:A,id:I,userId:I,name:S,firstName:S,"
       "lastName:S,managerId:I,"
       "role:E:Unspecified|Technician|Dispatch|Accounting,roleIds:A,"
       "businessUnitId:I,createdOn:D,modifiedOn:D,email:S,phoneNumber:S,"
       "loginName:S,active:B,aadUserId:S,accountLocked:B,home:O,agentId:I,"
       "startDate:D,terminationDate:D,hourlyRate:N,overtimeProfileId:I"},
      {"technicians",
       "id:I,userId:I,name:S,roleIds:A,businessUnitId:I,mainZoneId:I,"
       "zoneIds:A,createdOn:D,modifiedOn:D,email:S,phoneNumber:S,"
       "loginName:S,home:O,dailyGoal:N,isManagedTech:B,"
       "licenseType:E:NonManagedTech|ManagedTech|ManagedInstaller,"
       "customFields:A,active:B,aadUserId:S,burdenRate:N,team:S,"
       "jobFilter:E:AllScheduledDispatchedWorking|"
       "NextScheduledDispatchedWorking|DispatchedWorking|"
       "NextScheduledDispatchedWorkingToday,"
       "permissions:A,accountLocked:B,commissionRate:N,currentValue:N,"
       "firstName:S,lastName:S,hourlyRate:N,jobId:I,mobilePhone:S,"
       "outboundCallerId:S,payrollId:S,payrollProfileId:I,appoitmentId:I,"
       "shiftStart:S,shiftEnd:S,soldByRate:N,startDate:D,"
       "status:E:Idle|Dispatched|Working|Meal,skills:A,positions:A,"
       "location:O,bio:S,memo:S"},
      {"business-units",
       "id:I,active:B,name:S,officialName:S,email:S,currency:S,"
       "phoneNumber:S,invoiceHeader:S,invoiceMessage:S,defaultTaxRate:N,"
       "authorizationParagraph:S,acknowledgementParagraph:S,address:O,"
       "materialSku:S,quickbooksClass:S,accountCode:S,franchiseId:S,"
       "conceptCode:S,corporateContractNumber:S,trade:O,division:O,"
       "tagTypeIds:A,tenant:O,createdOn:D,modifiedOn:D,externalData:A,"
       "certifiedSentriconSpecialistCode:S"},
      {"tag-types",
       "id:I,name:S,color:S,code:S,importance:E:Medium|High,"
       "isConversionOpportunity:B,allowToUseOnTimesheetActivity:B,"
       "isVisibleOnDispatchBoard:B,active:B,createdOn:D,modifiedOn:D"},
      {"calls",
       "id:I,duration:S,from:S,to:S,direction:E:Inbound|Outbound,"
       "status:E:Ringing|Answered|Completed|Initiated,"
       "type:E:Abandoned|Unbooked|Excused|Booked,recordingUrl:S,"
       "voiceMailPath:S,createdOn:D,modifiedOn:D,reason:O,customer:O,"
       "location:O,campaign:O,job:O,agent:O,createdBy:O,excuseMemo:S,tag:S,"
       "active:B,lead:O"},
      {"activity-categories",
       "id:I,name:S,type:E:Other|Idle|Meal|PaidTimeOff,allowEdit:B,"
       "isDefault:B,createdOn:D,modifiedOn:D,active:B"},
      {"activity-types",
       "id:I,code:S,categoryId:I,description:S,icon:S,businessUnitId:I,"
       "isUsersHomeBusinessUnit:B,laborTypeId:I,"
       "isTechnicianProfileLaborType:B,visibleToRoles:A,"
       "defaultTagTypeIds:A,tagAssociation:E:DoNotAllow|Allow|Require,"
       "jobAssociation:E:DoNotAllow|Allow|Require,"
       "projectAssociation:E:DoNotAllow|Allow|Require,"
       "projectLabelAssociation:E:DoNotAllow|Allow|Require,"
       "budgetCodeAssociation:E:DoNotAllow|Allow|Require,"
       "laborTypeAssociation:E:DoNotAllow|Allow|Require,"
       "memoAssociation:E:DoNotAllow|Allow|Require,defaultMemo:S,"
       "dontAllowToChangeMemo:B,dontAllowToChangeTag:B,isArchived:B,"
       "isDraft:B,isDefault:B,isInUse:B,active:B,createdOn:D,modifiedOn:D"},
      {"activities",
       "id:I,employeeId:I,employeeType:E:Technician|Employee,"
       "activityTypeId:I,startTime:D,endTime:D,jobId:I,appointmentId:I,"
       "projectId:I,projectLabel:S,laborTypeId:I,budgetCodeId:I,memo:S,"
       "tagTypes:A,startCoordinate:O,endCoordinate:O,active:B,"
       "modifiedById:I,createdOn:D,modifiedOn:D"},
  };
  return *shapes;
}

FieldKind KindOf(std::string_view code) {
  switch (code.empty() ? 'S' : code[0]) {
    case 'I':
      return FieldKind::kInteger;
    case 'N':
      return FieldKind::kNumber;
    case 'B':
      return FieldKind::kBool;
    case 'D':
      return FieldKind::kDateTime;
    case 'E':
      return FieldKind::kEnum;
    case 'A':
      return FieldKind::kArray;
    case 'O':
      return FieldKind::kObject;
    default:
      return FieldKind::kString;
  }
}

}  // namespace

std::vector<Field> RecordShape(const std::string& endpoint) {
  // The legacy estimates export serves the same records as the current one.
  auto it =
      Shapes().find(endpoint == "estimates-legacy" ? "estimates" : endpoint);
  std::string_view rest;
  if (it != Shapes().end()) {
    rest = it->second;
  } else if (const Endpoint* e = FindEndpoint(endpoint)) {
    // A list endpoint: the scalar fields of its spec.
    rest = SpecFields(e->path);
  }
  std::vector<Field> fields;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
    size_t colon = item.find(':');
    Field f;
    f.name = std::string(item.substr(0, colon));
    std::string_view code = item.substr(colon + 1);
    f.kind = KindOf(code);
    if (f.kind == FieldKind::kEnum) {
      std::string_view values = code.substr(2);
      while (!values.empty()) {
        size_t bar = values.find('|');
        f.enum_values.emplace_back(values.substr(0, bar));
        values = bar == std::string_view::npos ? "" : values.substr(bar + 1);
      }
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

}  // namespace stsync::fake
