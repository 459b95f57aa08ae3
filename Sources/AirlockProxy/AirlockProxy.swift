// AirlockProxy
