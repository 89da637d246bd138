"""A small backtest, written the way real ones often are: it works, and it is
slower than it needs to be for two reasons a profile shows at once.

usage: python3 examples/backtest.py [SECONDS] [--fixed]
  SECONDS  how long to run (default 20; 0 runs forever)
  --fixed  the same loop with both anti-patterns fixed, to compare

For each bar of a synthetic price series, a moving-average strategy decides,
an order goes through a retry helper, and the day's result is saved. Every
few bars it waits for the next batch of market data (a blocking wait, which
`pyrograph record --clock wall` shows and the default CPU clock does not).

The two anti-patterns, on purpose:
1. `with_retries` logs each attempt with `logging.debug("..." % (...))`: the
   message, with the whole order book in it, is formatted on every call even
   though debug logging is off. `logging.debug("... %s", book)` formats only
   when the record is emitted.
2. `save_result` makes sure the results directory exists on every call
   (`os.makedirs(..., exist_ok=True)`: a failed `mkdir`, an exception and a
   `stat` each time) instead of once at start-up.
Runs on CPython 3.6 and later.
"""
import logging
import math
import os
import random
import sys
import tempfile
import time

RESULTS = os.path.join(tempfile.gettempdir(), "pyrograph-backtest")
BARS_PER_BATCH = 2500
WINDOW = 20
FIXED = "--fixed" in sys.argv


def market_data(rng, count, start=100.0):
    """A random walk of prices: a stand-in for a day's bars."""
    price = start
    bars = []
    for _ in range(count):
        price *= math.exp(rng.gauss(0, 0.01))
        bars.append(price)
    return bars


def wait_for_market_data():
    """The next batch arrives from the exchange: the process just waits."""
    time.sleep(0.05)


def moving_average(prices, window):
    recent = prices[-window:]
    return sum(recent) / len(recent)


def decide(prices):
    if len(prices) < WINDOW:
        return 0
    fast = moving_average(prices, WINDOW // 4)
    slow = moving_average(prices, WINDOW)
    return 1 if fast > slow else -1


def with_retries(send, order, book, attempts=3):
    for attempt in range(1, attempts + 1):
        if FIXED:
            # Formatted only if a handler emits the record.
            logging.debug("attempt %d for order %r against book %r", attempt, order, book)
        else:
            # Anti-pattern 1: formatted eagerly, whether or not DEBUG is enabled.
            logging.debug("attempt %d for order %r against book %r" % (attempt, order, book))
        if send(order):
            return True
    return False


def send(order):
    return order["size"] != 0


def save_result(results, day, equity):
    if not FIXED:
        # Anti-pattern 2: the same directory checked (and its creation
        # tried) on every call.
        os.makedirs(RESULTS, exist_ok=True)
    results.append((day, equity))


def run_batch(rng, prices, book, results, position, equity, day):
    for price in market_data(rng, BARS_PER_BATCH, prices[-1] if prices else 100.0):
        prices.append(price)
        signal = decide(prices)
        if signal != position:
            order = {"day": day, "side": signal, "size": abs(signal - position), "price": price}
            book.append((day, price, signal))
            del book[:-60]
            with_retries(send, order, book)
            position = signal
        equity += position * (price - prices[-2]) if len(prices) > 1 else 0.0
        save_result(results, day, equity)
        day += 1
    del prices[:-WINDOW]
    return position, equity, day


def main():
    arguments = [argument for argument in sys.argv[1:] if argument != "--fixed"]
    seconds = float(arguments[0]) if arguments else 20.0
    logging.basicConfig(level=logging.WARNING)
    if FIXED:
        os.makedirs(RESULTS, exist_ok=True)
    started = time.process_time()
    rng = random.Random(7)
    prices, book, results = [], [], []
    position, equity, day = 0, 0.0, 0
    deadline = time.time() + seconds
    while seconds == 0 or time.time() < deadline:
        position, equity, day = run_batch(rng, prices, book, results, position, equity, day)
        del results[:-1000]
        wait_for_market_data()
    cpu = time.process_time() - started
    print("backtest%s: %d bars in %.2f s of CPU, %.0f bars per CPU second, equity %.2f"
          % (" --fixed" if FIXED else "", day, cpu, day / max(cpu, 1e-9), equity))


if __name__ == "__main__":
    main()
