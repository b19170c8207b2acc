//! Turns a line's spans into properly nested open / text / close events, so HTML tags and Markdown delimiters
//! balance. Marks that last longer open first; inline code is always innermost (Markdown code spans hold no markup).

use super::model::{Image, Marks, Span};

/// One inline mark; `Link` carries its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Link(String),
    Bold,
    Italic,
    Strike,
    Underline,
    Code,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Open(Mark),
    Text(&'a str),
    Image(&'a Image),
    Close(Mark),
}

/// The marks of a span, in the fixed order used to break ties.
pub fn marks_list(marks: &Marks) -> Vec<Mark> {
    let mut res = Vec::new();
    if let Some(url) = &marks.link {
        res.push(Mark::Link(url.clone()));
    }
    let flags = [
        (marks.bold, Mark::Bold),
        (marks.italic, Mark::Italic),
        (marks.strike, Mark::Strike),
        (marks.underline, Mark::Underline),
        (marks.code, Mark::Code),
    ];
    res.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, m)| m));
    res
}

/// The nested events of `spans`.
pub fn events(spans: &[Span]) -> Vec<Event<'_>> {
    let marks: Vec<Vec<Mark>> = spans.iter().map(|s| marks_list(&s.marks)).collect();
    let mut stack: Vec<Mark> = Vec::new();
    let mut res = Vec::new();
    for (index, span) in spans.iter().enumerate() {
        let want = &marks[index];
        let mut keep = stack.iter().take_while(|m| want.contains(m)).count();
        let opening: Vec<Mark> = want
            .iter()
            .filter(|m| !stack[..keep].contains(m))
            .cloned()
            .collect();
        if !opening.is_empty()
            && let Some(code_at) = stack[..keep].iter().position(|m| *m == Mark::Code)
        {
            keep = code_at;
        }
        while stack.len() > keep {
            res.push(Event::Close(stack.pop().expect("non-empty stack")));
        }
        for mark in opening_order(&marks[index..], &stack) {
            res.push(Event::Open(mark.clone()));
            stack.push(mark);
        }
        res.push(match &span.image {
            Some(image) => Event::Image(image),
            None => Event::Text(&span.text),
        });
    }
    while let Some(mark) = stack.pop() {
        res.push(Event::Close(mark));
    }
    res
}

/// The marks of `ahead[0]` not yet open, longest-lasting first and code last.
fn opening_order(ahead: &[Vec<Mark>], open: &[Mark]) -> Vec<Mark> {
    let run = |mark: &Mark| {
        ahead
            .iter()
            .take_while(|marks| marks.contains(mark))
            .count()
    };
    let mut opening: Vec<(usize, Mark)> = ahead[0]
        .iter()
        .filter(|m| !open.contains(m))
        .map(|m| (if *m == Mark::Code { 0 } else { run(m) }, m.clone()))
        .collect();
    opening.sort_by_key(|(run, _)| std::cmp::Reverse(*run));
    opening.into_iter().map(|(_, m)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, bold: bool, italic: bool) -> Span {
        Span {
            text: text.into(),
            marks: Marks {
                bold,
                italic,
                ..Marks::default()
            },
            image: None,
        }
    }

    #[test]
    fn longer_marks_open_first_and_everything_balances() {
        let spans = [span("a", true, true), span("b", false, true)];
        let got = events(&spans);
        assert_eq!(
            got,
            vec![
                Event::Open(Mark::Italic),
                Event::Open(Mark::Bold),
                Event::Text("a"),
                Event::Close(Mark::Bold),
                Event::Text("b"),
                Event::Close(Mark::Italic),
            ]
        );
    }
}
