// AirlockAudit
