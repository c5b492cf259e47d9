"""SMS: one pure conversation engine behind Twilio and the SMSSync Android gateway."""
