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

# --- the client workloads: what a portal client and a staff dashboard send -----------------

PORTAL_INVOICES = """
query PortalInvoices {
  viewer {
    customer {
      invoices(first: 20) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id number status issueDate dueDate isOverdue pdfUrl
          total { amount currency }
          amountDue { amount currency }
        }
      }
    }
  }
}
"""

PORTAL_CAR = """
query PortalCar($id: ID!) {
  node(id: $id) {
    ... on Car {
      id make model year vin licensePlate color status mileage
      events(first: 10) { nodes { id kind occurredAt notes } }
      documents(first: 10) { nodes { id name kind contentType createdAt downloadUrl } }
      appointments(first: 5) { nodes { id title kind status startsAt endsAt } }
    }
  }
}
"""

STAFF_CUSTOMERS = """
query Customers($search: String) {
  customers(search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name company email phone portalStatus createdAt }
  }
}
"""

CUSTOMER_PAGE = """
query CustomerPage($id: ID!) {
  node(id: $id) {
    ... on Customer {
      id name company email phone addressLine1 city region postalCode country
      internalNotes portalStatus createdAt
      contacts { nodes { id name email role canAccessPortal } }
      cars { nodes { id make model year licensePlate status } }
      invoices(first: 10) {
        totalCount
        nodes { id number status dueDate isOverdue total { amount currency }
                amountDue { amount currency } }
      }
      estimates(first: 10) {
        nodes {
          id number version status validUntil total { amount currency }
          decision { decision reason decidedAt approvedTotal { amount currency } }
        }
      }
      documents(first: 10) {
        nodes { id name kind contentType sizeBytes visibleInPortal createdAt downloadUrl }
      }
    }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on Customer { name email phone }
    ... on Car { make model year licensePlate carStatus: status owner { id name } }
    ... on Invoice {
      number invoiceStatus: status dueDate total { amount currency } customer { id name }
    }
  }
}
"""

INBOX = """
query Inbox($unreadOnly: Boolean!) {
  conversations(unreadOnly: $unreadOnly) {
    pageInfo { hasNextPage endCursor }
    nodes {
      customer { id name }
      latestMessage { id authorKind body createdAt }
      unreadCount
    }
  }
}
"""

AUDIT = """
query Audit($customerId: ID) {
  auditEvents(customerId: $customerId, first: 25) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id action actorKind subjectType ip createdAt
      actorStaff { id name }
      customer { id name }
    }
  }
}
"""

WEEK = """
query Week($from: DateTime!, $to: DateTime!) {
  appointments(startsAfter: $from, startsBefore: $to, first: 100) {
    nodes {
      id title kind status startsAt endsAt notes
      customer { id name phone }
      car { id make model licensePlate }
    }
  }
}
"""

INVOICES_PAGE_2 = """
query CustomerInvoices($id: ID!, $after: String) {
  node(id: $id) {
    ... on Customer {
      id name
      invoices(first: 2, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id number status issueDate total { amount currency } }
      }
    }
  }
}
"""

CAR_SEARCH = """
query CarSearch($search: String) {
  cars(search: $search, first: 20) {
    totalCount
    nodes { id make model year licensePlate status owner { id name } }
  }
}
"""

# Literals: an enum list and a page size written into the text, as dashboards often do.
OPEN_INVOICES = """
{
  invoices(status: [OPEN, PARTIALLY_PAID], first: 25) {
    totalCount
    nodes {
      id number status dueDate isOverdue
      amountDue { amount currency }
      customer { id name email }
    }
  }
}
"""

PENDING_ESTIMATES = """
{
  estimates(status: [SENT], first: 25) {
    nodes {
      id number version validUntil sentAt total { amount currency }
      customer { id name }
      car { id make model }
    }
  }
}
"""

# The id written into the text: a new document for each customer, as a careless client sends.
NODE_LITERAL = """{ node(id: "%s") { id ... on Customer { name email phone portalStatus } } }"""
