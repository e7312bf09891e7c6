//! Server-sent events as chat-completions streams use them: `data:` lines, a blank line ends an event.

/// One complete event from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server names its events (most send none).
    pub name: Option<String>,
    pub data: String,
}

/// Incremental parser: feed it lines as they arrive, take events when they complete.
#[derive(Debug, Default)]
pub struct SseParser {
    name: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    /// Feeds one line (with or without its line ending). Returns the event it completes, if any.
    pub fn line(&mut self, line: &str) -> Option<SseEvent> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            // A comment, used as a keep-alive.
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "event" => self.name = Some(value.to_string()),
            // `id` and `retry` do not matter for a single completion.
            _ => {}
        }
        None
    }

    /// The event still buffered when the stream ended without a closing blank line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        self.dispatch()
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        if self.data.is_empty() {
            self.name = None;
            return None;
        }
        let event = SseEvent {
            name: self.name.take(),
            data: self.data.join("\n"),
        };
        self.data.clear();
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out: Vec<SseEvent> = text.split_inclusive('\n').filter_map(|l| p.line(l)).collect();
        out.extend(p.finish());
        out
    }

    #[test]
    fn data_lines_blank_lines_comments_and_crlf() {
        let events =
            parse(": keep-alive\r\ndata: {\"a\":1}\r\n\r\ndata:{\"b\":2}\n\nevent: error\ndata: x\ndata: y\n\n");
        assert_eq!(
            events,
            vec![
                SseEvent {
                    name: None,
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    name: None,
                    data: "{\"b\":2}".into()
                },
                SseEvent {
                    name: Some("error".into()),
                    data: "x\ny".into()
                },
            ]
        );
    }

    #[test]
    fn an_event_cut_off_by_the_end_of_the_stream_is_still_returned() {
        assert_eq!(parse("data: [DONE]").len(), 1);
        assert!(parse("\n\n: only comments\n").is_empty());
    }
}
