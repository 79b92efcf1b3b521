#!/usr/bin/env python3
"""A tiny SMTP server for the mail tests (aiosmtpd), on 127.0.0.1 only.

    python3 smtp_sink.py PORT OUTPUT.jsonl [USER:PASSWORD]

Listens on PORT (0: any free port), prints "ready PORT" once listening, and appends each mail it
receives to OUTPUT.jsonl as one JSON line: {mail_from, rcpt_tos, data} (data: the message as
received), plus its headers and body as Python's email parser reads them (encoded words and
transfer encodings decoded) and the login used, if any. With USER:PASSWORD it offers AUTH (over
the plain connection: loopback only) and accepts only that login. It stops when its standard
input closes, so it never outlives the test that started it.
"""

import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        message = email.message_from_bytes(data, policy=email.policy.default)
        body = None
        if not message.is_multipart():
            try:
                body = message.get_content()
            except Exception as error:  # a test wants to see what could not be read
                body = f"<unreadable: {error}>"
        login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": data.decode("utf-8", "replace"),
            "headers": [[name, str(value)] for name, value in message.items()],
            "body": body,
            "login": login,
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


def authenticator(expected):
    def check(server, session, envelope, mechanism, auth_data):
        ok = expected is not None and (auth_data.login.decode(), auth_data.password.decode()) == expected
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


async def main():
    port = int(sys.argv[1])
    path = sys.argv[2]
    expected = tuple(sys.argv[3].split(":", 1)) if len(sys.argv) > 3 else None
    loop = asyncio.get_running_loop()
    kwargs = {"hostname": "smtp-sink.test", "enable_SMTPUTF8": True}
    if expected:
        kwargs.update(authenticator=authenticator(expected), auth_require_tls=False, auth_required=True)
    server = await loop.create_server(lambda: SMTP(Sink(path), **kwargs), "127.0.0.1", port)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
