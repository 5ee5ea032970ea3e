"""Reading referral forms: in the body, as an HTML table, or attached."""
