// AirlockPolicy
