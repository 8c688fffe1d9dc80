//! The benchmarks' load generator: a minimal keep-alive HTTP/1.1 client.

use anyhow::{Context, bail};

/// A keep-alive HTTP/1.1 client over one connection, as load generators such as wrk
/// use: the load generator shares the two cores with the server it measures, so its
/// own cost per request must be small (reqwest costs several times more).
pub(crate) struct RawHttp {
    stream: tokio::io::BufStream<tokio::net::TcpStream>,
}

impl RawHttp {
    pub(crate) async fn connect(addr: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: tokio::io::BufStream::new(stream),
        })
    }

    /// POSTs a JSON body; returns the status code.
    pub(crate) async fn post(
        &mut self,
        host: &str,
        path: &str,
        body: &[u8],
    ) -> anyhow::Result<u16> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body).await?;
        self.stream.flush().await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let code: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .context("malformed status line")?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                bail!("connection closed");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0u8; length];
        self.stream.read_exact(&mut body).await?;
        Ok(code)
    }
}
