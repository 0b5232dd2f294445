"""Amazon SNS adapter: JSON for machine subscribers, text for email, one line for SMS."""

from __future__ import annotations

from sgwatch.notify.config import SnsConfig
from sgwatch.notify.outcome import Attempt, Delivered, Message
from sgwatch.notify.render.documents import sns_publish
from sgwatch.notify.runtime import ChannelSender


class SnsSender(ChannelSender[SnsConfig]):
    """Publishes each message to one topic."""

    def _topic(self) -> str:
        return self.runtime.secrets.resolve(self.config.topic_arn)

    def destination(self) -> str:
        return f"sns:{self._topic()}"

    def send(self, message: Message) -> Attempt:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        from sgwatch.notify.awserrors import aws_attempt  # noqa: PLC0415

        topic = self._topic()
        parts = topic.split(":")
        region = parts[3] if len(parts) > 5 and parts[3] else self.config.region
        try:
            reply = self.runtime.aws_client("sns", region).publish(TopicArn=topic, **sns_publish(message))
        except (ClientError, BotoCoreError) as exc:
            return aws_attempt(exc)
        return Delivered(detail=f"SNS message {reply.get('MessageId', '?')}")
