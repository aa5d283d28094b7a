"""kombu's filesystem transport, with each message written whole before a worker can see it.

kombu's own `_put` creates `<time>_<uuid>.<queue>.msg` empty and then writes it; a worker that
polls in between moves the empty file, fails to decode it and stops ("Unrecoverable error:
JSONDecodeError"). Here the message is written under a name the workers skip (`….msg.part`)
and renamed into place, which is atomic on one file system. CELERY_BROKER_TRANSPORT selects
this class whenever the broker is `filesystem://` (development, demos, tests).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
