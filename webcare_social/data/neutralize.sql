-- a copied database must not poll or post with production credentials
UPDATE webcare_channel
   SET x_bearer_token = NULL,
       x_consumer_key = NULL,
       x_consumer_secret = NULL,
       x_access_token = NULL,
       x_access_token_secret = NULL,
       state = 'draft';
