namespace NodeCache.PerfHarness.Peers;

/// <summary>
/// The common pull-through cache: nginx with proxy_cache in front of the upstream registry, keyed on the URI, with the
/// cache lock on so that concurrent misses wait for one fill instead of each going upstream.
/// </summary>
internal static class NginxProxyCache
{
    public static Task<NginxServer> StartAsync(Uri upstream, CancellationToken cancellationToken) =>
        NginxServer.StartAsync(
            Peer.NginxProxyCache,
            folder => $$"""
                    proxy_cache_path {{folder}}/cache levels=1:2 keys_zone=registry:16m max_size=64g inactive=7d use_temp_path=off;
                    upstream registry {
                        server {{upstream.Authority}};
                        keepalive 64;
                    }
                """,
            """
                    location /v2/ {
                        proxy_pass http://registry;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_cache registry;
                        proxy_cache_key $uri;
                        proxy_cache_valid 200 1h;
                        proxy_cache_lock on;
                        # The defaults (5 s) send every request still waiting after 5 s upstream uncached: a stampede on a
                        # big blob would measure that, not the lock. Ten minutes lets the lock do its best.
                        proxy_cache_lock_timeout 10m;
                        proxy_cache_lock_age 10m;
                        proxy_read_timeout 10m;
                        # Buffered, with room for the biggest blob on disk: a response nginx cannot buffer it does not cache.
                        proxy_buffering on;
                        proxy_buffer_size 64k;
                        proxy_buffers 64 64k;
                        proxy_busy_buffers_size 1m;
                        proxy_max_temp_file_size 16384m;
                        proxy_temp_file_write_size 1m;
                    }
            """,
            cancellationToken);
}
