"""The list's search thread (screens.list_search): the latest request wins, an answer overtaken by
a newer request is never delivered, a new list is never replaced by a next page, a failed query
is reported and the thread goes on, and nothing is delivered after stop()."""

from __future__ import annotations

import threading

from screens.list_search import ListSearch


class Cache:
    """Answers with the query typed at the moment it is read (as the list reads its search box);
    the first answer waits until `go` is set, as a cache busy with a sync write would."""

    def __init__(self) -> None:
        self.typed = ""
        self.go = threading.Event()
        self.started = threading.Event()
        self.answered: list[tuple[str, int]] = []
        self.delivered: list[tuple[str, int]] = []
        self.failures: list[BaseException] = []

    def answer(self, offset: int) -> tuple[str, int]:
        typed = self.typed
        self.started.set()
        assert self.go.wait(10)
        if typed == "boom":
            raise OSError("disk I/O error")
        self.answered.append((typed, offset))
        return typed, offset

    def search(self) -> ListSearch[tuple[str, int]]:
        return ListSearch(self.answer, self.delivered.append, self.failures.append)


def test_the_latest_query_wins_and_an_overtaken_answer_is_never_delivered() -> None:
    cache = Cache()
    search = cache.search()
    cache.typed = "c"
    search.ask(0)
    assert cache.started.wait(10)  # 'c' is being answered, slowly
    for typed in ["ch", "cha", "chan"]:  # typed meanwhile
        cache.typed = typed
        search.ask(0)
    assert search.busy
    cache.go.set()
    assert search.wait_idle(10)
    assert cache.answered == [("c", 0), ("chan", 0)]  # 'ch' and 'cha' never queried
    assert cache.delivered == [("chan", 0)]  # 'c' was overtaken: never shown
    search.stop()


def test_a_new_list_is_not_replaced_by_a_next_page() -> None:
    cache = Cache()
    search = cache.search()
    cache.typed = "w"
    search.ask(60)  # scrolling: the next page of 'w'
    assert cache.started.wait(10)
    cache.typed = "wl"
    search.ask(0)  # a key: a new list
    search.ask(60)  # a scroll of the old list, queued after it
    cache.go.set()
    assert search.wait_idle(10)
    assert cache.answered[-1] == ("wl", 0)
    assert cache.delivered == [("wl", 0)]
    search.stop()


def test_a_failed_query_is_reported_and_the_next_one_answered() -> None:
    cache = Cache()
    cache.go.set()
    search = cache.search()
    cache.typed = "boom"
    search.ask(0)
    assert search.wait_idle(10)
    assert [str(e) for e in cache.failures] == ["disk I/O error"] and not cache.delivered
    cache.typed = "wl"
    search.ask(0)
    assert search.wait_idle(10)
    assert cache.delivered == [("wl", 0)]
    search.stop()


def test_nothing_is_delivered_after_stop() -> None:
    cache = Cache()
    search = cache.search()
    cache.typed = "w"
    search.ask(0)
    assert cache.started.wait(10)
    search.stop()  # the list closed while its query runs
    search.ask(0)  # (ignored)
    assert not search.busy
    cache.go.set()
    thread = search._thread
    assert thread is not None
    thread.join(10)
    assert not thread.is_alive()
    assert cache.answered == [("w", 0)] and cache.delivered == []
