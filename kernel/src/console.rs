//! The kernel console and the `log` sink.
//!
//! Output goes to the PL011 once it is mapped; anything logged before that
//! (device-tree parsing, memory setup) is kept in a small buffer and written
//! out when the console comes up, so no boot message is lost.
//!
//! Log lines read `[    0.001234] INFO  [subsystem] what happened`: guest
//! time, level, the module that logged, and one decoded event per line.

use core::fmt::{self, Write};

use spin::Once;

use crate::sync::{IrqSpinLock, Rank};

use crate::drivers::pl011::Pl011;

/// Bytes of early output kept until the UART is ready.
const EARLY_BUFFER: usize = 8192;

/// The UART, once mapped. Outside the lock: the panic path writes to it
/// even while the lock is held (see `panic_print`).
static UART: Once<Pl011> = Once::new();

/// Serializes output; holds the early buffer until the UART is ready.
struct Console {
    early: [u8; EARLY_BUFFER],
    early_len: usize,
    early_dropped: usize,
}

static CONSOLE: IrqSpinLock<Console> =
    IrqSpinLock::new(Rank::Console, Console { early: [0; EARLY_BUFFER], early_len: 0, early_dropped: 0 });

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match UART.get() {
            Some(mut uart) => uart.write_str(s),
            None => {
                let room = EARLY_BUFFER - self.early_len;
                let n = s.len().min(room);
                self.early[self.early_len..self.early_len + n].copy_from_slice(&s.as_bytes()[..n]);
                self.early_len += n;
                self.early_dropped += s.len() - n;
                Ok(())
            }
        }
    }
}

/// Starts writing to `uart`, after replaying the early buffer.
pub fn init(mut uart: Pl011) {
    uart.init();
    let console = CONSOLE.lock();
    let early = core::str::from_utf8(&console.early[..console.early_len]).unwrap_or("<early log not UTF-8>\n");
    let mut writer = &uart;
    let _ = writer.write_str(early);
    if console.early_dropped > 0 {
        let _ = writeln!(writer, "[console] {} bytes of early log dropped", console.early_dropped);
    }
    // Under the lock: no one writes to the early buffer after its replay.
    UART.call_once(|| uart);
}

/// Writes a user program's output as it is (bytes, not necessarily UTF-8).
pub fn write_bytes(bytes: &[u8]) {
    let mut console = CONSOLE.lock();
    match UART.get() {
        Some(uart) => bytes.iter().for_each(|&b| {
            if b == b'\n' {
                uart.write_byte(b'\r');
            }
            uart.write_byte(b)
        }),
        None => {
            let _ = console.write_str(&alloc::string::String::from_utf8_lossy(bytes));
        }
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let _ = CONSOLE.lock().write_fmt(args);
}

/// Writes even if the console lock is held: for the panic path, where the
/// holder may never run again. Then the bytes go straight to the UART,
/// unserialized, as Linux's pl011_console_write does when its trylock
/// fails during an oops; before the UART is up they are lost.
pub fn panic_print(args: fmt::Arguments) {
    match CONSOLE.try_lock() {
        Some(mut console) => {
            let _ = console.write_fmt(args);
        }
        None => {
            if let Some(mut uart) = UART.get() {
                let _ = uart.write_fmt(args);
            }
        }
    }
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::_print(format_args!($($arg)*)));
}

#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::console::_print(format_args!("{}\n", format_args!($($arg)*))));
}

struct Logger;

static LOGGER: Logger = Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        let ns = crate::arch::aarch64::timer::uptime_ns();
        println!(
            "[{:5}.{:06}] {:<5} [{}] {}",
            ns / 1_000_000_000,
            (ns / 1000) % 1_000_000,
            record.level(),
            subsystem(record.target()),
            record.args()
        );
    }

    fn flush(&self) {}
}

/// `kernel::mm::frame` -> `frame`; the crate root logs as `boot`.
fn subsystem(target: &str) -> &str {
    match target.rsplit("::").next() {
        Some("kernel") | None => "boot",
        Some(last) => last,
    }
}

/// Installs the logger; `level` from the command line (`loglevel=`).
pub fn init_logging(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
