// AirlockTLS
