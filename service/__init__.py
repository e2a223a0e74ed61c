"""faqbot: FAQ retrieval and grounded answers for an online shop."""
