//! An ASCII radar chart: one axis per skill, the scores' polygon plotted on a character grid.

use std::f64::consts::PI;

const WIDTH: usize = 78;
const HEIGHT: usize = 21;
/// Terminal cells are about twice as tall as wide, so x is stretched to keep the chart round.
const RX: f64 = 19.0;
const RY: f64 = 9.0;

/// `axes`: (label, score 0–100). Needs at least three axes; fewer return `None`.
pub fn radar(axes: &[(String, u8)]) -> Option<String> {
    let n = axes.len();
    if n < 3 {
        return None;
    }
    let mut grid = vec![vec![' '; WIDTH]; HEIGHT];
    let (cx, cy) = ((WIDTH / 2) as f64, (HEIGHT / 2) as f64);
    let angle = |k: usize| -PI / 2.0 + 2.0 * PI * k as f64 / n as f64;
    let at = |k: usize, r: f64| (cx + r * RX * angle(k).cos(), cy + r * RY * angle(k).sin());
    // Rings at 50% and 100%, then the axes.
    for (ring, ch) in [(0.5, '.'), (1.0, '.')] {
        for k in 0..n {
            line(&mut grid, at(k, ring), at((k + 1) % n, ring), ch);
        }
    }
    for k in 0..n {
        line(&mut grid, (cx, cy), at(k, 1.0), ':');
    }
    let r = |k: usize| f64::from(axes[k].1.min(100)) / 100.0;
    for k in 0..n {
        line(&mut grid, at(k, r(k)), at((k + 1) % n, r((k + 1) % n)), '*');
    }
    for k in 0..n {
        plot(&mut grid, at(k, r(k)), 'O');
    }
    plot(&mut grid, (cx, cy), '+');
    for (k, (name, score)) in axes.iter().enumerate() {
        let label = format!("{} {}", short(name), score);
        let (x, y) = at(k, 1.12);
        let (x, y) = (x.round() as isize, y.round() as isize);
        let len = label.chars().count() as isize;
        let start = if (x as f64 - cx).abs() < 2.0 {
            x - len / 2
        } else if (x as f64) < cx {
            x - len + 1
        } else {
            x
        };
        let start = start.clamp(0, WIDTH as isize - len);
        let y = y.clamp(0, HEIGHT as isize - 1) as usize;
        for (i, ch) in label.chars().enumerate() {
            grid[y][(start + i as isize) as usize] = ch;
        }
    }
    let lines: Vec<String> = grid
        .iter()
        .map(|row| row.iter().collect::<String>().trim_end().to_string())
        .collect();
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(0);
    let last = lines.iter().rposition(|l| !l.is_empty()).unwrap_or(0);
    Some(lines[first..=last].join("\n"))
}

fn short(name: &str) -> String {
    let s: String = name.chars().take(16).collect();
    if name.chars().count() > 16 {
        format!("{}.", s.trim_end())
    } else {
        s
    }
}

fn plot(grid: &mut [Vec<char>], (x, y): (f64, f64), ch: char) {
    let (x, y) = (x.round(), y.round());
    if x >= 0.0 && y >= 0.0 && (y as usize) < grid.len() && (x as usize) < grid[0].len() {
        grid[y as usize][x as usize] = ch;
    }
}

fn line(grid: &mut [Vec<char>], a: (f64, f64), b: (f64, f64), ch: char) {
    let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        let p = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let (x, y) = (p.0.round(), p.1.round());
        if x >= 0.0 && y >= 0.0 && (y as usize) < grid.len() && (x as usize) < grid[0].len() {
            let cell = &mut grid[y as usize][x as usize];
            // The polygon draws over the rings and axes, never the other way round.
            if *cell == ' ' || (ch == '*' && *cell != 'O') || (ch == ':' && *cell == '.') {
                *cell = ch;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_in_80_columns_and_labels_every_axis() {
        let axes: Vec<(String, u8)> = [
            "Platform design",
            "Performance tuning",
            "Distributed systems",
            "Stream processing",
            "Spark",
        ]
        .iter()
        .zip([80, 35, 60, 100, 0])
        .map(|(n, s)| (n.to_string(), s))
        .collect();
        let chart = radar(&axes).unwrap();
        assert!(chart.lines().all(|l| l.chars().count() <= 80));
        for (n, s) in &axes {
            assert!(chart.contains(&format!("{} {s}", short(n))), "{n}\n{chart}");
        }
        assert!(chart.contains('O') && chart.contains('*'));
    }

    #[test]
    fn fewer_than_three_axes_is_not_a_radar() {
        assert!(radar(&[("a".into(), 1), ("b".into(), 2)]).is_none());
    }
}
