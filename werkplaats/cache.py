"""Django's Redis cache, with one redis-py client per connection pool instead of one per call.

Django makes a new redis.Redis for every cache call (RedisCacheClient.get_client); in redis-py
8 that costs about as much as the round trip itself (~60-100 us of CPU: it builds the response
callbacks anew), paid by every session read and every workshop page. A client only holds the
pool, which already hands each call its own connection, so one client per pool serves every
thread of a worker. After a fork redis-py's pool reconnects by itself.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
