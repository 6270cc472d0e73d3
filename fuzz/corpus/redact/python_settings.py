import os
DB_PASSWORD = "hunter2!"
password: str = "annot8ed!"
token = os.environ["GITHUB_TOKEN"]
api_key = None
SECRET_KEY = 'django-insecure-7x#k2m!q9z'
DATABASE_URL = "postgres://app:s3cretPw@db.internal:5432/app"
def login(username: str, password: str) -> Token: ...
