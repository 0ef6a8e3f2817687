"""The benchmark workloads, as a client sends them."""

DASHBOARD = """
query Dashboard {
  viewer {
    customer {
      id name email phone
      cars(first: 10) {
        nodes {
          id make model year licensePlate status
          events(first: 3) { nodes { id kind occurredAt notes } }
        }
      }
      openInvoices(first: 10) {
        nodes {
          id number status dueDate isOverdue
          total { amount currency }
          amountDue { amount currency }
          lineItems { description quantity unitPrice { amount currency } total { amount currency } }
        }
      }
      pendingEstimates(first: 10) {
        nodes {
          id number status validUntil
          total { amount currency }
          lineItems { description optional total { amount currency } }
        }
      }
      upcomingAppointments(first: 10) { nodes { id title kind status startsAt endsAt } }
      documents(first: 10) { nodes { id name kind contentType createdAt } }
      unreadMessages(first: 10) { nodes { id body createdAt } }
    }
  }
}
"""

STAFF_LIST = """
query StaffList($search: String, $after: String) {
  customers(first: 50, search: $search, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id name email phone company portalStatus
      cars(first: 3) { totalCount nodes { id make model year status } }
      openInvoices(first: 5) {
        nodes { id number dueDate total { amount currency } amountDue { amount currency } }
      }
    }
  }
}
"""

STAFF_DETAIL = """
query StaffDetail($id: ID!) {
  node(id: $id) {
    ... on Customer {
      id name company email phone addressLine1 city region postalCode country
      internalNotes portalStatus portalInvitedAt createdAt
      communicationPreferences { invoices estimates scheduling carUpdates marketing }
      contacts(first: 20) { nodes { id name email role canAccessPortal portalScope } }
      cars(first: 20) {
        nodes {
          id make model year vin licensePlate color status mileage storageLocation internalNotes
          events(first: 10) { nodes { id kind occurredAt notes internal } }
          conditionReports(first: 3) {
            nodes { id inspectedAt mileage summary items { area rating notes } }
          }
        }
      }
      invoices(first: 20) {
        nodes {
          id number status issueDate dueDate isOverdue internalNotes
          subtotal { amount currency } taxTotal { amount currency } total { amount currency }
          amountPaid { amount currency } amountDue { amount currency }
          lineItems {
            kind description quantity taxRate
            unitPrice { amount } unitCost { amount } total { amount }
          }
          payments(first: 10) { nodes { id method status amount { amount currency } receivedAt } }
        }
      }
      estimates(first: 20) {
        nodes { id number version status validUntil total { amount currency }
                lineItems { kind description optional total { amount } } }
      }
      appointments(first: 20) { nodes { id title kind status startsAt endsAt notes internalNotes } }
      documents(first: 20) {
        nodes { id name kind contentType sizeBytes visibleInPortal createdAt }
      }
      messages(first: 20) { nodes { id authorKind body createdAt readByStaffAt } }
    }
  }
}
"""

DEEP_PAGE = """
query Page($after: String) {
  customers(first: 4, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id name email }
  }
}
"""

UPDATE_CUSTOMER = """
mutation Touch($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) { customer { id updatedAt } userErrors { code } }
}
"""
