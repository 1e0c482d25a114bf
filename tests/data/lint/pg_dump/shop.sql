--
-- PostgreSQL database dump
--

\restrict 4kQpXb9WlN2yZ0tJ3mVh

-- Dumped from database version 16.4 (Debian 16.4-1.pgdg120+1)
-- Dumped by pg_dump version 16.10

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit; Type: SCHEMA; Schema: -; Owner: shop_owner
--

CREATE SCHEMA audit;


ALTER SCHEMA audit OWNER TO shop_owner;

--
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;


--
-- Name: EXTENSION citext; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';


--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;


--
-- Name: order_status; Type: TYPE; Schema: public; Owner: shop_owner
--

CREATE TYPE public.order_status AS ENUM (
    'pending',
    'paid',
    'shipped',
    'cancelled'
);


ALTER TYPE public.order_status OWNER TO shop_owner;

--
-- Name: address; Type: TYPE; Schema: public; Owner: shop_owner
--

CREATE TYPE public.address AS (
	street text,
	city text,
	postcode character varying(12)
);


ALTER TYPE public.address OWNER TO shop_owner;

--
-- Name: email; Type: DOMAIN; Schema: public; Owner: shop_owner
--

CREATE DOMAIN public.email AS public.citext
	CONSTRAINT email_check CHECK ((VALUE OPERATOR(public.~) '^[^@]+@[^@]+$'::public.citext));


ALTER DOMAIN public.email OWNER TO shop_owner;

--
-- Name: positive_amount; Type: DOMAIN; Schema: public; Owner: shop_owner
--

CREATE DOMAIN public.positive_amount AS numeric(12,2)
	CONSTRAINT positive_amount_check CHECK ((VALUE > (0)::numeric));


ALTER DOMAIN public.positive_amount OWNER TO shop_owner;

--
-- Name: order_total(bigint); Type: FUNCTION; Schema: public; Owner: shop_owner
--

CREATE FUNCTION public.order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
  SELECT COALESCE(sum(quantity * unit_price), 0)
  FROM public.order_items
  WHERE order_id = p_order_id;
$$;


ALTER FUNCTION public.order_total(p_order_id bigint) OWNER TO shop_owner;

--
-- Name: touch_updated_at(); Type: FUNCTION; Schema: public; Owner: shop_owner
--

CREATE FUNCTION public.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;


ALTER FUNCTION public.touch_updated_at() OWNER TO shop_owner;

--
-- Name: log_change(); Type: FUNCTION; Schema: audit; Owner: shop_owner
--

CREATE FUNCTION audit.log_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    AS $_$
DECLARE
  v_old jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN
    v_old := to_jsonb(OLD);
  END IF;
  INSERT INTO audit.changes (table_name, op, old_row, changed_at)
  VALUES (TG_TABLE_NAME, TG_OP, v_old, now());
  RETURN COALESCE(NEW, OLD);
END;
$_$;


ALTER FUNCTION audit.log_change() OWNER TO shop_owner;

--
-- Name: sum_sq(numeric); Type: AGGREGATE; Schema: public; Owner: shop_owner
--

CREATE AGGREGATE public.sum_sq(numeric) (
    SFUNC = public.numeric_sq_add,
    STYPE = numeric,
    INITCOND = '0'
);


ALTER AGGREGATE public.sum_sq(numeric) OWNER TO shop_owner;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: changes; Type: TABLE; Schema: audit; Owner: shop_owner
--

CREATE TABLE audit.changes (
    id bigint NOT NULL,
    table_name text NOT NULL,
    op text NOT NULL,
    old_row jsonb,
    changed_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE audit.changes OWNER TO shop_owner;

--
-- Name: changes_id_seq; Type: SEQUENCE; Schema: audit; Owner: shop_owner
--

ALTER TABLE audit.changes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME audit.changes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: customers; Type: TABLE; Schema: public; Owner: shop_owner
--

CREATE TABLE public.customers (
    id integer NOT NULL,
    email public.email NOT NULL,
    name text NOT NULL,
    home public.address,
    tags text[] DEFAULT '{}'::text[],
    last_ip inet,
    preferences jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.customers OWNER TO shop_owner;

--
-- Name: customers_id_seq; Type: SEQUENCE; Schema: public; Owner: shop_owner
--

CREATE SEQUENCE public.customers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.customers_id_seq OWNER TO shop_owner;

--
-- Name: customers_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: shop_owner
--

ALTER SEQUENCE public.customers_id_seq OWNED BY public.customers.id;


--
-- Name: orders; Type: TABLE; Schema: public; Owner: shop_owner
--

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id integer NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total public.positive_amount,
    placed_at timestamp with time zone DEFAULT now() NOT NULL,
    note character varying(500) COLLATE pg_catalog."C"
)
PARTITION BY RANGE (placed_at);


ALTER TABLE public.orders OWNER TO shop_owner;

--
-- Name: orders_2025; Type: TABLE; Schema: public; Owner: shop_owner
--

CREATE TABLE public.orders_2025 (
    id bigint NOT NULL,
    customer_id integer NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total public.positive_amount,
    placed_at timestamp with time zone DEFAULT now() NOT NULL,
    note character varying(500) COLLATE pg_catalog."C"
);


ALTER TABLE public.orders_2025 OWNER TO shop_owner;

--
-- Name: orders_2026; Type: TABLE; Schema: public; Owner: shop_owner
--

CREATE TABLE public.orders_2026 (
    id bigint NOT NULL,
    customer_id integer NOT NULL,
    status public.order_status DEFAULT 'pending'::public.order_status NOT NULL,
    total public.positive_amount,
    placed_at timestamp with time zone DEFAULT now() NOT NULL,
    note character varying(500) COLLATE pg_catalog."C"
);


ALTER TABLE public.orders_2026 OWNER TO shop_owner;

--
-- Name: order_items; Type: TABLE; Schema: public; Owner: shop_owner
--

CREATE TABLE public.order_items (
    order_id bigint NOT NULL,
    line_no smallint NOT NULL,
    product_id bigint NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    CONSTRAINT order_items_quantity_check CHECK ((quantity > 0))
);


ALTER TABLE public.order_items OWNER TO shop_owner;

--
-- Name: products; Type: TABLE; Schema: public; Owner: shop_owner
--

CREATE TABLE public.products (
    id bigint NOT NULL,
    sku character varying(32) NOT NULL,
    title text NOT NULL,
    price numeric NOT NULL,
    weight_kg real,
    search tsvector,
    attributes jsonb
);


ALTER TABLE public.products OWNER TO shop_owner;

--
-- Name: products_id_seq; Type: SEQUENCE; Schema: public; Owner: shop_owner
--

CREATE SEQUENCE public.products_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.products_id_seq OWNER TO shop_owner;

ALTER SEQUENCE public.products_id_seq OWNED BY public.products.id;


--
-- Name: customer_stats; Type: MATERIALIZED VIEW; Schema: public; Owner: shop_owner
--

CREATE MATERIALIZED VIEW public.customer_stats AS
 SELECT c.id AS customer_id,
    count(o.id) AS orders,
    sum((o.total)::numeric) AS revenue
   FROM (public.customers c
     LEFT JOIN public.orders o ON ((o.customer_id = c.id)))
  GROUP BY c.id
  WITH NO DATA;


ALTER MATERIALIZED VIEW public.customer_stats OWNER TO shop_owner;

--
-- Name: open_orders; Type: VIEW; Schema: public; Owner: shop_owner
--

CREATE VIEW public.open_orders AS
 SELECT id,
    customer_id,
    total,
    placed_at
   FROM public.orders
  WHERE (status = ANY (ARRAY['pending'::public.order_status, 'paid'::public.order_status]));


ALTER VIEW public.open_orders OWNER TO shop_owner;

--
-- Name: orders_2025; Type: TABLE ATTACH; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_2025 FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');


--
-- Name: orders_2026; Type: TABLE ATTACH; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.orders ATTACH PARTITION public.orders_2026 FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');


--
-- Name: customers id; Type: DEFAULT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.customers ALTER COLUMN id SET DEFAULT nextval('public.customers_id_seq'::regclass);


--
-- Name: products id; Type: DEFAULT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.products ALTER COLUMN id SET DEFAULT nextval('public.products_id_seq'::regclass);


--
-- Data for Name: customers; Type: TABLE DATA; Schema: public; Owner: shop_owner
--

COPY public.customers (id, email, name, home, tags, last_ip, preferences, created_at, updated_at) FROM stdin;
1	ada@example.com	Ada Lovelace	("12 St James's Sq",London,SW1Y)	{vip}	10.0.0.1	{}	2025-01-02 10:00:00+00	2025-01-02 10:00:00+00
2	alan@example.com	Alan Turing	\N	{}	\N	{"lang": "en"}	2025-02-03 11:30:00+00	2025-02-03 11:30:00+00
\.


--
-- Data for Name: products; Type: TABLE DATA; Schema: public; Owner: shop_owner
--

COPY public.products (id, sku, title, price, weight_kg, search, attributes) FROM stdin;
1	BK-001	Notes on the Analytical Engine	19.99	0.4	'analyt':4 'engin':5 'note':1	{"pages": 52}
\.


--
-- Name: customers_id_seq; Type: SEQUENCE SET; Schema: public; Owner: shop_owner
--

SELECT pg_catalog.setval('public.customers_id_seq', 2, true);


--
-- Name: products_id_seq; Type: SEQUENCE SET; Schema: public; Owner: shop_owner
--

SELECT pg_catalog.setval('public.products_id_seq', 1, true);


--
-- Name: changes changes_pkey; Type: CONSTRAINT; Schema: audit; Owner: shop_owner
--

ALTER TABLE ONLY audit.changes
    ADD CONSTRAINT changes_pkey PRIMARY KEY (id);


--
-- Name: customers customers_email_key; Type: CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_email_key UNIQUE (email);


--
-- Name: customers customers_pkey; Type: CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id, placed_at);


--
-- Name: orders_2025 orders_2025_pkey; Type: CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.orders_2025
    ADD CONSTRAINT orders_2025_pkey PRIMARY KEY (id, placed_at);


--
-- Name: order_items order_items_pkey; Type: CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_pkey PRIMARY KEY (order_id, line_no);


--
-- Name: products products_pkey; Type: CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.products
    ADD CONSTRAINT products_pkey PRIMARY KEY (id);


--
-- Name: orders_customer_idx; Type: INDEX; Schema: public; Owner: shop_owner
--

CREATE INDEX orders_customer_idx ON ONLY public.orders USING btree (customer_id);


--
-- Name: orders_2025_customer_id_idx; Type: INDEX; Schema: public; Owner: shop_owner
--

CREATE INDEX orders_2025_customer_id_idx ON public.orders_2025 USING btree (customer_id);


--
-- Name: products_lower_title_idx; Type: INDEX; Schema: public; Owner: shop_owner
--

CREATE INDEX products_lower_title_idx ON public.products USING btree (lower(title)) WHERE (price > (0)::numeric);


--
-- Name: products_search_idx; Type: INDEX; Schema: public; Owner: shop_owner
--

CREATE INDEX products_search_idx ON public.products USING gin (search);


--
-- Name: products_sku_key; Type: INDEX; Schema: public; Owner: shop_owner
--

CREATE UNIQUE INDEX products_sku_key ON public.products USING btree (sku) WITH (fillfactor='90');


--
-- Name: orders_2025_customer_id_idx; Type: INDEX ATTACH; Schema: public; Owner: shop_owner
--

ALTER INDEX public.orders_customer_idx ATTACH PARTITION public.orders_2025_customer_id_idx;


--
-- Name: customers customers_touch; Type: TRIGGER; Schema: public; Owner: shop_owner
--

CREATE TRIGGER customers_touch BEFORE UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();


--
-- Name: orders orders_audit; Type: TRIGGER; Schema: public; Owner: shop_owner
--

CREATE TRIGGER orders_audit AFTER INSERT OR DELETE OR UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION audit.log_change();


--
-- Name: order_items order_items_order_fk; Type: FK CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE ONLY public.order_items
    ADD CONSTRAINT order_items_product_fk FOREIGN KEY (product_id) REFERENCES public.products(id) ON DELETE RESTRICT;


--
-- Name: orders orders_customer_fk; Type: FK CONSTRAINT; Schema: public; Owner: shop_owner
--

ALTER TABLE public.orders
    ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES public.customers(id);


--
-- Name: customers; Type: ROW SECURITY; Schema: public; Owner: shop_owner
--

ALTER TABLE public.customers ENABLE ROW LEVEL SECURITY;

--
-- Name: customers customers_self; Type: POLICY; Schema: public; Owner: shop_owner
--

CREATE POLICY customers_self ON public.customers USING ((email OPERATOR(public.=) (current_setting('app.email'::text))::public.citext));


--
-- Name: customer_stats; Type: MATERIALIZED VIEW DATA; Schema: public; Owner: shop_owner
--

REFRESH MATERIALIZED VIEW public.customer_stats;


--
-- Name: TABLE orders; Type: ACL; Schema: public; Owner: shop_owner
--

GRANT SELECT ON TABLE public.orders TO reporting;


--
-- Name: DEFAULT PRIVILEGES FOR TABLES; Type: DEFAULT ACL; Schema: public; Owner: shop_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE shop_owner IN SCHEMA public GRANT SELECT ON TABLES TO reporting;


--
-- PostgreSQL database dump complete
--

\unrestrict 4kQpXb9WlN2yZ0tJ3mVh

