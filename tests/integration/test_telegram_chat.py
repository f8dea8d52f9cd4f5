"""A Telegram private conversation is a chat, not a mention: its messages
open one chat task in the chat queue, an agent accepts it over /ws/agent,
later messages of the same conversation reach the agent in the same task,
and the agent's replies are sent back with sendMessage, replying to the
customer's latest message. The bot token is never logged."""
import asyncio
import json

from harness import Ctxd, Redis, Workdir, wait_for
from telegram_server import TelegramServer
from test_routing import add_agent, login, typ

TOKEN = "123456:TEST-token-not-for-logs"


def test_telegram_private_chat():
    wd = Workdir("telegram")
    redis = Redis(wd.path).start()
    tg = TelegramServer(TOKEN)
    tg.start()
    c = Ctxd(wd.path, redis.port,
             [{"name": "acme-bot", "kind": "telegram", "url": tg.url(), "token": TOKEN,
               "every": "0.1s"}],
             extra={"queues": [{"name": "chats", "channels": ["chat"]}]})
    try:
        token = add_agent(c, "ann")
        c.start()

        async def scenario():
            ann, _ = await login(c.port, token)
            first = tg.user_says(42, "Hi, where is my Acme order?")
            offer = await ann.expect(typ("offer"), 15, "chat offer")
            assert offer["task"]["channel"] == "chat", offer
            tid = offer["task"]["id"]
            assert offer["history"][0]["text"] == "Hi, where is my Acme order?", offer
            await ann.send(type="accept", task=tid)
            await ann.expect(typ("assigned"))
            second = tg.user_says(42, "It was due Monday")
            m = await ann.expect(typ("chat_message"), 15, "second message in the same chat")
            assert m["task"] == tid and m["message"]["text"] == "It was due Monday", m
            await ann.send(type="reply", task=tid, text="Let me check, Carol")
            await ann.expect(typ("reply_status", status="posted"), 15, "posted to Telegram")
            await ann.send(type="done", task=tid)
            await ann.ws.close()
            return first, second
        first, second = asyncio.run(scenario())
        assert len(tg.sent) == 1, tg.sent
        sent = tg.sent[0]
        assert str(sent["chat_id"]) == "42" and sent["text"] == "Let me check, Carol", sent
        assert int(sent["reply_to_message_id"]) == second, (sent, second)
        # one task for the conversation, not one per message
        tasks = [k for k in redis.cmd("KEYS", "ctx:{r}:task:*")]
        assert len(tasks) == 1, tasks
        assert c.stop() == 0
        assert "TEST-token" not in c.logtext(), "the bot token was logged"
    finally:
        if c.alive():
            c.stop()
        tg.stop()
        redis.stop()
        wd.cleanup()
