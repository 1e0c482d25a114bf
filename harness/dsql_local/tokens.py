"""IAM auth tokens as Aurora DSQL and RDS check them: a SigV4-presigned URL, recomputed here.

A DSQL password is what boto3's ``generate_db_connect_admin_auth_token`` (action
``DbConnectAdmin``, role ``admin``) or ``generate_db_connect_auth_token`` (``DbConnect``, any
other role) returns: ``<hostname>/?Action=…&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=
<key id>/<date>/<region>/dsql/aws4_request&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-SignedHeaders=
host[&X-Amz-Security-Token=…]&X-Amz-Signature=…``. The token is made offline, so the only way
to check it is to sign the same request again with the secret and compare: this module does
that with botocore's own SigV4 code (the canonical request, string to sign and signature of
``SigV4QueryAuth``) at the token's own timestamp, so a token verifies exactly when botocore
would have produced it from the server's credentials.

An RDS token (Aurora PostgreSQL, RDS Proxy: boto3's ``generate_db_auth_token``) is the same
shape for service ``rds-db``: ``<host>:<port>/?Action=connect&DBUser=<user>&X-Amz-…``, always
valid for 900 s; :meth:`TokenVerifier.for_rds` checks those, one verifier for both services.

A token is refused when it is not a presigned URL, names another host (and port, for RDS),
region or service, another action than the role needs (another ``DBUser`` than the one
logging in, for RDS), an access key the server does not know, has expired
(``X-Amz-Date`` + ``X-Amz-Expires``), is dated in the future beyond the clock skew AWS
allows, asks for more than a week, or carries a signature that does not match. The reason
is kept for the server's log; the client only sees DSQL's refusal (see :data:`REFUSAL`).

Who signed: a verifier may know several identities (IAM principals), each an access key and its
secret and the ARN it stands for; :meth:`TokenVerifier.verify` answers with the ARN of the one
whose key signed, so the local DSQL can hold a role's login to the principals it was granted to
(``AWS IAM GRANT``), as DSQL does.
"""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "LOCAL_ARN",
    "REFUSAL",
    "SigningIdentity",
    "TokenRejected",
    "TokenVerifier",
    "action_for",
]

REFUSAL = ("28000", "unable to accept connection, access denied")
"""What the client is told: DSQL's words as a client saw them for an expired token (quoted in
dbcodeio/public#637); the SQLSTATE is not recorded anywhere we found, so ``28000``
(invalid authorization) is our choice — see docs/dsql-local.md."""

LOCAL_ARN = "arn:aws:iam::000000000000:role/cutover-local"
"""The IAM principal an identity stands for when none is named: locally there is no STS to ask
who the credentials belong to, so this is the one ``AWS IAM GRANT`` names for them."""
MAX_EXPIRES_S = 604_800  # one week, the most boto3 and the console allow
CLOCK_SKEW = datetime.timedelta(minutes=5)  # SigV4's tolerance for a clock running ahead
_TIMESTAMP = "%Y%m%dT%H%M%SZ"


class TokenRejected(Exception):
    """The token does not authenticate the connection; ``reason`` is for the server log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def action_for(user: str) -> str:
    """The IAM action a token for ``user`` must be signed for."""
    return "DbConnectAdmin" if user == "admin" else "DbConnect"


@dataclass(frozen=True)
class SigningIdentity:
    """The credentials a token must have been signed with (the server's, resolved once), and
    the IAM principal they stand for (``arn``: what ``AWS IAM GRANT`` names)."""

    access_key: str
    secret_key: str
    token: str | None = None
    arn: str = LOCAL_ARN

    def __repr__(self) -> str:  # never the secret or the session token
        return f"SigningIdentity(access_key={self.access_key!r}, arn={self.arn!r})"

    @classmethod
    def from_environment(cls) -> SigningIdentity:
        """botocore's default credential chain (env, profile, SSO, container, instance)."""
        import botocore.session

        credentials = botocore.session.get_session().get_credentials()
        if credentials is None:
            raise LookupError(
                "no AWS credentials found for the local DSQL to check IAM tokens against; "
                "fix: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values: the same "
                "ones must sign the clients' tokens) or AWS_PROFILE"
            )
        frozen = credentials.get_frozen_credentials()
        return cls(frozen.access_key, frozen.secret_key, frozen.token)


class TokenVerifier:
    """Checks passwords as the DSQL endpoint ``hostname`` in ``region`` would (or, made by
    :meth:`for_rds`, as an RDS or Aurora endpoint ``hostname:port`` would). ``others``: more
    identities whose tokens are good here (other IAM principals of the account)."""

    def __init__(
        self,
        hostname: str,
        region: str,
        identity: SigningIdentity,
        *,
        service: str = "dsql",
        port: int | None = None,
        others: tuple[SigningIdentity, ...] = (),
    ) -> None:
        self.hostname = hostname.lower()
        self.region = region
        self.service = service
        # RDS signs host:port (the port is part of what the token is good for); DSQL the name
        self.audience = self.hostname if port is None else f"{self.hostname}:{port}"
        self._identities: dict[str, SigningIdentity] = {}
        for known in (identity, *others):
            if self._identities.setdefault(known.access_key, known) != known:
                raise ValueError(f"two identities share access key {known.access_key!r}")

    @classmethod
    def for_rds(
        cls, hostname: str, port: int, region: str, identity: SigningIdentity
    ) -> TokenVerifier:
        """A verifier for ``rds-db:connect`` tokens of an Aurora/RDS/RDS Proxy endpoint."""
        return cls(hostname, region, identity, service="rds-db", port=port)

    def _check_action(self, params: dict[str, str], user: str) -> None:
        if self.service == "rds-db":
            if params.get("Action") != "connect":
                raise TokenRejected(f"action {params.get('Action')!r}, not connect")
            if params.get("DBUser") != user:
                raise TokenRejected(
                    f"token for database user {params.get('DBUser')!r}, not {user!r}"
                )
            return
        expected_action = action_for(user)
        if params.get("Action") != expected_action:
            raise TokenRejected(
                f"action {params.get('Action')!r} does not allow role {user!r} "
                f"(needs {expected_action})"
            )

    def verify(self, password: str, user: str, *, now: datetime.datetime | None = None) -> str:
        """The ARN of the identity that signed ``password``, a valid token for ``user`` here;
        else raise TokenRejected."""
        host, sep, query = password.partition("/?")
        if not sep or not query:
            raise TokenRejected("the password is not a presigned URL")
        if host.lower() != self.audience:
            raise TokenRejected(f"token for host {host!r}, not {self.audience!r}")
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
        params = dict(pairs)
        if len(params) != len(pairs):
            raise TokenRejected("a query parameter appears twice")
        self._check_action(params, user)
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise TokenRejected("not a SigV4 (AWS4-HMAC-SHA256) signature")
        if params.get("X-Amz-SignedHeaders") != "host":
            raise TokenRejected("signed headers other than host")
        scope = params.get("X-Amz-Credential", "").split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise TokenRejected("malformed X-Amz-Credential")
        key_id, day, region, service, _ = scope
        if service != self.service:
            raise TokenRejected(f"signed for service {service!r}, not {self.service}")
        if region != self.region:
            raise TokenRejected(f"signed for region {region!r}, not {self.region!r}")
        identity = self._identities.get(key_id)
        if identity is None:
            raise TokenRejected(f"signed by access key {key_id!r}, not one the server knows")
        self._check_time(params, day, now or datetime.datetime.now(datetime.UTC))
        signature = params.pop("X-Amz-Signature", "")
        expected = self._signature(host, params, identity)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise TokenRejected("the signature does not match the server's credentials")
        return identity.arn

    @staticmethod
    def _check_time(params: dict[str, str], day: str, now: datetime.datetime) -> None:
        try:
            signed = datetime.datetime.strptime(params["X-Amz-Date"], _TIMESTAMP).replace(
                tzinfo=datetime.UTC
            )
            expires = int(params["X-Amz-Expires"])
        except (KeyError, ValueError):
            raise TokenRejected("missing or malformed X-Amz-Date / X-Amz-Expires") from None
        if signed.strftime("%Y%m%d") != day:
            raise TokenRejected("X-Amz-Date and the credential scope disagree on the day")
        if not 0 < expires <= MAX_EXPIRES_S:
            raise TokenRejected(f"X-Amz-Expires {expires} is outside 1..{MAX_EXPIRES_S}")
        if signed - CLOCK_SKEW > now:
            raise TokenRejected("the token is dated in the future")
        if now > signed + datetime.timedelta(seconds=expires):
            raise TokenRejected("the token has expired")

    def _signature(self, host: str, params: dict[str, str], identity: SigningIdentity) -> str:
        """The signature botocore computes for this request with ``identity``'s secret."""
        from botocore.auth import SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        from botocore.utils import percent_encode_sequence

        token = params.get("X-Amz-Security-Token")
        credentials = Credentials(identity.access_key, identity.secret_key, token)
        signer: Any = SigV4QueryAuth(
            credentials, self.service, self.region, expires=int(params["X-Amz-Expires"])
        )
        url = f"https://{host}/?{percent_encode_sequence(params)}"
        request: Any = AWSRequest(method="GET", url=url)
        request.context["timestamp"] = params["X-Amz-Date"]
        canonical = signer.canonical_request(request)
        signature: str = signer.signature(signer.string_to_sign(request, canonical), request)
        return signature
