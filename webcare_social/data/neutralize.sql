-- a copied database must not poll, post or accept pushes with production credentials
UPDATE webcare_channel
   SET bearer_token = NULL,
       api_key = NULL,
       api_key_secret = NULL,
       access_token = NULL,
       access_token_secret = NULL,
       app_password = NULL,
       provider_session = NULL,
       webhook_secret = NULL,
       state = 'draft';
