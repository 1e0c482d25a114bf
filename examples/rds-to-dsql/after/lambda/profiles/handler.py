"""Profile API: reads profiles from DynamoDB and leaderboard rows from the relational store."""

import json
import os

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["PROFILES_TABLE"])
# Connections authenticate with a short-lived IAM token (dsql:DbConnect), not a password.
DB_HOST = os.environ["DSQL_ENDPOINT"]


def main(event, context):
    profile = TABLE.get_item(Key={"user_id": event["user_id"]}).get("Item", {})
    return {"statusCode": 200, "body": json.dumps({"profile": profile, "db": DB_HOST})}
