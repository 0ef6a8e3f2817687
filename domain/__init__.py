"""The product's actions and rules as typed functions that know no GraphQL: what the API's
resolvers, the Stripe webhooks and the scheduled jobs all call."""
