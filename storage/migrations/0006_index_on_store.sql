-- New articles are indexed by storage.articles.store_article_sync itself (storage.search.index_article),
-- with index text an ingest worker process has already made, instead of by this trigger: the trigger
-- had to recompute that text (or be handed it aside), and at 20,000 articles firing it cost 0.7 ms of
-- the 2.3 ms an article took to store (bench/ingest.py). Updates and deletes keep their triggers.
DROP TRIGGER articles_search_insert;
