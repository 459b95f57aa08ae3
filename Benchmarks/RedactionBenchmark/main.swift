print("redaction benchmark: in progress")
