// AirlockRedaction
