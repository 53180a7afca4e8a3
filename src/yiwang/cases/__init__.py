"""Cases (办件): applications, acceptance, review, deadlines, notices, delivery, supervision."""
